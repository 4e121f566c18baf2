package io.scribeledger.ledger;

import io.scribeledger.error.ApiError;
import io.scribeledger.error.ErrorCode;
import io.scribeledger.merkle.Hashes;
import io.scribeledger.storage.EntryIndexFile;
import io.scribeledger.storage.SegmentStore;
import io.scribeledger.storage.ValueLocation;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The apply rules: what one committed Raft entry does to the ledger, decided from the key lookups,
 * the entry index and the Merkle leaves alone, so that every replica that applied the same entries
 * decides alike. The caller ({@link LedgerState#apply}) holds the state's lock and fails stop when
 * this throws.
 *
 * @param commit makes every applied entry durable before it returns ({@link LedgerState#commit})
 */
record LedgerApply(LedgerIndex index, LedgerFiles files, Runnable commit) {

  /** Applies the proposal at Raft position (term, raftIndex), not yet applied, and records it. */
  WriteOutcome apply(long term, long raftIndex, StampedCommand stamped) {
    WriteOutcome outcome;
    if (stamped.proposal() instanceof Command command) {
      outcome = decide(stamped.timestamp(), command);
    } else if (stamped.proposal() instanceof Batch batch) {
      List<WriteOutcome> outcomes = new ArrayList<>(batch.commands().size());
      for (Command command : batch.commands()) {
        outcomes.add(decide(stamped.timestamp(), command));
      }
      outcome = new WriteOutcome.Batched(outcomes);
    } else if (stamped.proposal() instanceof HeadCheck check) {
      // Writes nothing: the next checkpoint records the applied Raft index, as for writes.
      outcome = confirm(check);
    } else {
      // Members and the manifest are written to the key lookups' store directly, so the commits
      // around them keep them in the same commit as the Raft index that made them (a replay never
      // sees them early).
      commit.run();
      outcome = change(stamped);
      index.setLastApplied(term, raftIndex);
      commit.run();
      return outcome;
    }
    index.setLastApplied(term, raftIndex);
    return outcome;
  }

  /** A member or manifest change: written to the key lookups' store directly. */
  private WriteOutcome change(StampedCommand stamped) {
    if (stamped.proposal() instanceof RegisterMember member) {
      Optional<String> problem = MemberRules.problem(member);
      if (problem.isPresent()) {
        // Held to the rules HTTP input is: every replica refuses the same record alike.
        return new WriteOutcome.Rejected(ApiError.of(ErrorCode.INVALID_REQUEST, problem.get()));
      }
      // A record without a key (a join names only the address) keeps the key the member
      // registered itself.
      MemberRecord known = index.members().get(member.nodeId());
      String key =
          member.publicKey().isEmpty() && known != null ? known.publicKey() : member.publicKey();
      index.putMember(member.nodeId(), new MemberRecord(member.httpAddress(), key));
      return new WriteOutcome.Registered();
    } else if (stamped.proposal() instanceof RemoveMember removed) {
      index.removeMember(removed.nodeId());
      return new WriteOutcome.Registered();
    } else if (stamped.proposal() instanceof SegmentArchived archived) {
      return archive(archived);
    }
    return seal(stamped.timestamp());
  }

  /**
   * Throws {@link HistoryMismatch} (the apply then fails stop) unless this replica's tree at the
   * check's size has the check's root. Every replica that applied the same entries before it holds
   * the same tree, so they all decide alike; one that differs stops before it answers for entries
   * the others do not have.
   */
  private WriteOutcome confirm(HeadCheck check) {
    long size = index.size();
    if (size < check.size()) {
      throw new HistoryMismatch(
          check,
          "this replica holds only " + size + " entries: entries before its log are missing");
    }
    byte[] here = files.tree().root(check.size());
    if (!MessageDigest.isEqual(here, check.root())) {
      throw new HistoryMismatch(check, "this replica's root there is " + Hashes.hex(here));
    }
    return new WriteOutcome.HeadConfirmed();
  }

  private WriteOutcome decide(long timestamp, Command command) {
    String key = command.key();
    Optional<String> problem = EntryRules.problem(command);
    if (problem.isPresent()) {
      // Deterministic: the same fixed rules on every replica, so all refuse it alike.
      return new WriteOutcome.Rejected(
          ApiError.of(
              KeyRules.problem(key, KeyRules.MAX_KEY_BYTES).isPresent()
                  ? ErrorCode.INVALID_KEY
                  : ErrorCode.INVALID_REQUEST,
              problem.get()));
    }
    // Decided from the key lookups, the entry index and the Merkle leaves alone: the apply path
    // never reads a segment, so a damaged segment on one replica cannot make its decisions differ
    // from the others'.
    long latestIndex = index.latestIndex(key);
    Optional<EntryIndexFile.Slot> latest =
        latestIndex == 0 ? Optional.empty() : files.entries().get(latestIndex);
    long latestVersion = latest.map(EntryIndexFile.Slot::version).orElse(0L);
    boolean live = latest.map(slot -> slot.opCode() == Op.PUT.code()).orElse(false);
    Condition condition = command.condition();
    if (condition instanceof Condition.IfAbsent && live) {
      return new WriteOutcome.Rejected(
          ApiError.of(
              ErrorCode.PRECONDITION_FAILED,
              "If-None-Match: * but the key has a live value at version " + latestVersion));
    }
    if (condition instanceof Condition.IfMatch m
        && (latest.isEmpty()
            || !Arrays.equals(files.nodes().get(0, latestIndex - 1), m.leafHash()))) {
      return new WriteOutcome.Rejected(
          ApiError.of(
              ErrorCode.PRECONDITION_FAILED, "If-Match does not match the key's latest version"));
    }
    if (command instanceof Command.Delete && !live) {
      return new WriteOutcome.Rejected(
          latest.isPresent()
              ? new ApiError(
                  ErrorCode.DELETED, "key was deleted at index " + latestIndex, latestIndex)
              : ApiError.of(ErrorCode.NOT_FOUND, "key has never been written"));
    }
    return new WriteOutcome.Applied(append(timestamp, command, latestVersion + 1, latestIndex));
  }

  private Receipt append(long timestamp, Command command, long version, long previousIndex) {
    long ledgerIndex = index.size() + 1;
    byte[] value = command instanceof Command.Put p ? p.value() : new byte[0];
    Op op = command instanceof Command.Put ? Op.PUT : Op.DELETE;
    String contentType = command instanceof Command.Put p ? p.contentType() : "";
    byte[] valueSha = Hashes.sha256(value);
    CanonicalEntry canonical =
        new CanonicalEntry(ledgerIndex, timestamp, op, command.key(), contentType, valueSha);
    byte[] header = canonical.encode();
    byte[] leaf = Hashes.leafHash(header);
    ValueLocation location = files.segments().append(header, value);
    files
        .entries()
        .append(ledgerIndex, new EntryIndexFile.Slot(location, header.length, version, op.code()));
    byte[] root = files.tree().append(ledgerIndex - 1, leaf);
    // Last: this publishes the entry (the ledger size and the key's latest index) to readers, who
    // take no lock against applies; before it they could find an entry whose Merkle leaf was not
    // stored yet (a 503 "failed its integrity check", or a head that could not be computed).
    index.append(command.key(), version, ledgerIndex, previousIndex);
    return new Receipt(
        command.key(), op, version, ledgerIndex, timestamp, valueSha, leaf, ledgerIndex, root);
  }

  /** Closes the active segment after the last applied entry and records it in the manifest. */
  private WriteOutcome seal(long timestamp) {
    long first = index.lastSealedIndex() + 1;
    long last = index.size();
    if (last < first) {
      return new WriteOutcome.Rejected(
          ApiError.of(ErrorCode.INVALID_REQUEST, "the active segment is empty"));
    }
    byte[] root = files.tree().rangeHash(first - 1, last - first + 1);
    SegmentStore.Position closed = files.segments().roll();
    SegmentInfo info =
        new SegmentInfo(closed.segmentId(), first, last, root, closed.length(), timestamp);
    index.addSegment(info);
    return new WriteOutcome.Sealed(info);
  }

  /**
   * Records a segment's archived copy; the first record per segment is kept (a second upload, by a
   * leader after a failover, wrote the same content-derived key). Refused alike on every replica
   * when malformed or when the segment is not sealed.
   */
  private WriteOutcome archive(SegmentArchived record) {
    Optional<String> problem = record.problem();
    if (problem.isEmpty() && index.segment(record.segmentId()).isEmpty()) {
      problem = Optional.of("segment " + record.segmentId() + " is not sealed");
    }
    if (problem.isPresent()) {
      return new WriteOutcome.Rejected(ApiError.of(ErrorCode.INVALID_REQUEST, problem.get()));
    }
    Optional<SegmentArchived> earlier = index.archived(record.segmentId());
    if (earlier.isPresent()) {
      return new WriteOutcome.Archived(earlier.get(), false);
    }
    index.putArchived(record);
    return new WriteOutcome.Archived(record, true);
  }
}
