package io.scribeledger.auth;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.error.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.util.List;

/**
 * Proves that a node asking to join holds a member certificate: a TLS handshake with its Raft
 * address, as a member would make it (this node's certificate offered, the cluster CA trusted, the
 * address checked against the certificate's names). Nothing beyond the handshake is sent or read.
 */
public final class MemberCertificates {

  private static final int HANDSHAKE_TIMEOUT_MS = 5_000;

  private final NetClient client;

  public MemberCertificates(Vertx vertx, NodeConfig.Tls tls) {
    this.client =
        vertx.createNetClient(
            new NetClientOptions()
                .setConnectTimeout(HANDSHAKE_TIMEOUT_MS)
                .setSsl(true)
                .setSslHandshakeTimeout(HANDSHAKE_TIMEOUT_MS)
                .setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                .setHostnameVerificationAlgorithm("HTTPS")
                .setUseAlpn(true)
                .setApplicationLayerProtocols(List.of("h2"))
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .setCertPath(tls.certFile().toString())
                        .setKeyPath(tls.keyFile().toString()))
                .setTrustOptions(new PemTrustOptions().addCertPath(tls.caFile().toString())));
  }

  /**
   * Succeeds once the node at {@code raftAddress} ({@code host:port}) has shown a certificate the
   * cluster CA signed for that name; fails with 403 {@code forbidden} otherwise.
   */
  public Future<Void> verify(String raftAddress) {
    int colon = raftAddress.lastIndexOf(':');
    String host = raftAddress.substring(0, colon);
    int port = Integer.parseInt(raftAddress.substring(colon + 1));
    return client
        // ConnectOptions carry their own ssl flag (default off): without it this is plain TCP.
        .connect(new ConnectOptions().setHost(host).setPort(port).setSsl(true))
        .recover(
            e ->
                Future.failedFuture(
                    ErrorCode.FORBIDDEN.error(
                        "the node at "
                            + raftAddress
                            + " did not prove it is a member: no TLS handshake with a certificate"
                            + " of the cluster CA for that address ("
                            + e.getMessage()
                            + ")")))
        .compose(socket -> socket.close());
  }

  public Future<Void> close() {
    return client.close();
  }
}
