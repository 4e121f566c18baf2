package io.scribeledger.consensus;

import io.scribeledger.config.ConfigResolver;
import io.scribeledger.config.NodeConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * How this node sets Ratis up: the group and its configured peers, the server's properties, TLS
 * parameters, and the clients it proposes through. Every Ratis setting the node changes is here,
 * with the reason beside it.
 */
final class RaftSettings {

  private RaftSettings() {}

  /** One Raft group holds the whole ledger; its id is fixed so every node names the same group. */
  static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("scribe-ledger".getBytes(StandardCharsets.UTF_8)));

  /** The ids of {@code peers}, sorted. */
  static Set<String> ids(Collection<RaftPeer> peers) {
    Set<String> ids = new TreeSet<>();
    peers.forEach(p -> ids.add(p.getId().toString()));
    return ids;
  }

  /** The group's members as configured; alone, this node (a group of one). */
  static List<RaftPeer> peers(NodeConfig config) {
    if (config.raft().peers().isEmpty()) {
      return List.of(
          RaftPeer.newBuilder()
              .setId(config.node().id())
              .setAddress(config.selfRaftAddress())
              .build());
    }
    List<RaftPeer> peers = new ArrayList<>();
    for (NodeConfig.Peer p : config.raft().peers()) {
      peers.add(RaftPeer.newBuilder().setId(p.id()).setAddress(p.raftAddress()).build());
    }
    return peers;
  }

  /** The Ratis settings of a member; package-private for the test of what a member acknowledges. */
  static RaftProperties properties(NodeConfig config, Path raftDir) {
    NodeConfig.Raft raft = config.raft();
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(p, List.of(raftDir.toFile()));
    GrpcConfigKeys.Server.setHost(p, raft.host());
    GrpcConfigKeys.Server.setPort(p, raft.port());
    RaftServerConfigKeys.Rpc.setTimeoutMin(
        p, TimeDuration.valueOf(raft.electionTimeoutMinMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(
        p, TimeDuration.valueOf(raft.electionTimeoutMaxMs(), TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(raft.requestTimeoutMs(), TimeUnit.MILLISECONDS));
    // One attempt of the client, not the whole write: a leader that is paused (SIGSTOP, a long GC)
    // answers nothing, and the client tries another member only once an attempt times out. Two
    // election timeouts let a new leader be elected meanwhile; retries (bounded by
    // raft.requestTimeoutMs through the retry count) carry the write to it.
    RaftClientConfigKeys.Rpc.setRequestTimeout(
        p, TimeDuration.valueOf(clientAttemptMs(raft), TimeUnit.MILLISECONDS));
    // A value travels inside one Raft entry, so every size limit on the path must hold the largest
    // one.
    // Sized for the largest entry any member may send, not this node's own limits: a leader
    // configured higher than a follower must never send it an entry it cannot take.
    long entryMax = ConfigResolver.MAX_ENTRY_BYTES;
    SizeInBytes entry = SizeInBytes.valueOf(entryMax);
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, entry);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf(entryMax + 8));
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf(raft.logSegmentSizeBytes()));
    // Memory the log may hold, sized from the heap: writes pending on the leader, and cached
    // entries (Ratis's defaults, 200 MB of cache and 4 entries' worth pending, alone would fill a
    // 512 MiB heap under large values; measured with bench/OverloadBench.java).
    long heap = Runtime.getRuntime().maxMemory();
    RaftServerConfigKeys.Write.setByteLimit(
        p, SizeInBytes.valueOf(Math.max(2 * entryMax, Math.min(heap / 8, 4 * entryMax))));
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setSegmentCacheSizeMax(
        p, SizeInBytes.valueOf(Math.max(2 * entryMax, heap / 8)));
    long messageMax = entryMax + (1 << 20);
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf(messageMax));
    // Snapshot files travel in chunks that must fit in one gRPC message too.
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(
        p, SizeInBytes.valueOf(Math.min(messageMax / 2, 8L << 20)));
    // The leader's appender for a follower stalls up to (timeout x in-flight chunks) when an
    // install
    // fails (e.g. the follower is down), sending it no heartbeats meanwhile: keep that short.
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(
        p, TimeDuration.valueOf(2, TimeUnit.SECONDS));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 2);
    // Ratis otherwise appends, fsyncs and replicates an extra metadata entry after every commit,
    // only
    // to learn its commit index sooner on restart (it learns it from the leader anyway): measured
    // 36 -> 21 ms per single-client write on a 3-node cluster.
    RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
    // A member must store what it acknowledges: the leader counts the acknowledgement toward the
    // majority that commits an entry. Ratis 3.3's default "composed" follower append skips a
    // request that starts where an append still being written starts, yet acknowledges the
    // request's last index; leaders send such longer resends whenever a heartbeat finds a
    // catching-up member behind. A restarted member then never caught up again (its leader retried
    // from above its log forever; ClusterProcessIT, ~3 in 70 runs). The plain append stores what it
    // acknowledges (AppendAcknowledgementTest; ARCHITECTURE.md, "Consensus").
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
    // How long the leader waits between attempts to reach a follower that fails: Ratis's default
    // backs off to 1 s and then 5 s, so a follower restarted after a while stayed unreached (and
    // behind, timing out into futile elections) for up to 5 s more — measured 4-19 s to catch up.
    // Ratis sleeps 0.5-1.5 times the step, which is at most a quarter of the minimum election
    // timeout, so every wait (at most 3/8 of it) ends before the next heartbeat is due (half of
    // it): after a longer one an appender builds only a heartbeat, whose refusal by a follower that
    // is behind (as after every restart) counts as one more error and another wait, so the first
    // entries of a catch-up came 125-375 ms late, and a leader whose view of a follower was wrong
    // sent it heartbeats only, forever. A down follower costs the leader a connection attempt every
    // ~50 ms.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(
        p, "1ms,10, " + appenderRetryMs(raft) + "ms,1000000");
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
    // Snapshots let Ratis purge its log and bring a far-behind follower or a new member up to date.
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, raft.snapshotEveryEntries());
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(
        p, (int) Math.min(Integer.MAX_VALUE, raft.snapshotEveryEntries()));
    // A purge keeps the last snapshotEveryEntries entries: a member that was down briefly (a
    // restart, a rolling upgrade) catches up from the log in about a second instead of a snapshot
    // install, which is O(ledger) (every file sent, key lookups rebuilt). The log then holds at
    // most about twice snapshotEveryEntries entries.
    RaftServerConfigKeys.Log.setPurgePreservationLogNum(p, raft.snapshotEveryEntries());
    return p;
  }

  /** The leader's wait between attempts to reach a failing follower (see {@link #properties}). */
  static long appenderRetryMs(NodeConfig.Raft raft) {
    return Math.max(1, Math.min(50, raft.electionTimeoutMinMs() / 4));
  }

  /**
   * Mutual TLS for every Raft connection when TLS is configured: this node presents its certificate
   * and accepts only peers (and clients) whose certificate the cluster CA signed. In Ratis 3.3 the
   * server, admin and client services share the one port, so this also closes raw proposals and
   * configuration changes to anyone without such a certificate.
   */
  static Parameters parameters(NodeConfig.Security security) {
    Parameters parameters = new Parameters();
    security
        .tls()
        .ifPresent(
            tls ->
                GrpcConfigKeys.TLS.setConf(
                    parameters,
                    new GrpcTlsConfig(
                        tls.keyFile().toFile(),
                        tls.certFile().toFile(),
                        tls.caFile().toFile(),
                        true)));
    return parameters;
  }

  /** How long one attempt of the Raft client may take before it tries another member. */
  static long clientAttemptMs(NodeConfig.Raft raft) {
    return Math.min(raft.requestTimeoutMs(), Math.max(1000, 2 * raft.electionTimeoutMaxMs()));
  }

  /**
   * A Ratis client of {@code group} pointed at {@code leader} (null: it finds the leader), whose
   * requests stop retrying when they are {@code raft.requestTimeoutMs} old.
   */
  static RaftClient newClient(
      RaftGroup group,
      RaftProperties props,
      Parameters parameters,
      RaftPeerId leader,
      NodeConfig.Raft raft) {
    // Retries stop when the request is raft.requestTimeoutMs old, when its caller is told the
    // outcome is unknown: a write must not go on retrying, and land, long after that answer.
    RequestTypeDependentRetryPolicy.Builder retry = RequestTypeDependentRetryPolicy.newBuilder();
    TimeDuration deadline = TimeDuration.valueOf(raft.requestTimeoutMs(), TimeUnit.MILLISECONDS);
    for (RaftProtos.RaftClientRequestProto.TypeCase type :
        RaftProtos.RaftClientRequestProto.TypeCase.values()) {
      retry.setRetryPolicy(
          type,
          RetryPolicies.retryForeverWithSleep(TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)));
      retry.setTimeout(type, deadline);
    }
    return RaftClient.newBuilder()
        .setRaftGroup(group)
        .setProperties(props)
        .setParameters(parameters)
        .setLeaderId(leader)
        .setRetryPolicy(retry.build())
        .build();
  }
}
