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
import java.security.cert.X509Certificate;
import java.util.List;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Proves that a node asking to join holds a member certificate: a TLS handshake with its Raft
 * address, as a member would make it (this node's certificate offered, the cluster CA trusted, the
 * address checked against the certificate's names). Nothing beyond the handshake is sent or read.
 */
public final class MemberCertificates {

  private static final Logger LOG = LoggerFactory.getLogger(MemberCertificates.class);
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
   * cluster CA signed for that address and issued to {@code nodeId} (its common name or a DNS name,
   * as cluster-scripts/make-certs.sh makes them), so a member's certificate cannot be passed off as
   * another's; fails with 403 {@code forbidden} otherwise. Why it failed goes to the log, not to
   * the caller (who could otherwise use the check to probe addresses).
   */
  public Future<Void> verify(String nodeId, String raftAddress) {
    int colon = raftAddress.lastIndexOf(':');
    String host = raftAddress.substring(0, colon);
    int port = Integer.parseInt(raftAddress.substring(colon + 1));
    return client
        // ConnectOptions carry their own ssl flag (default off): without it this is plain TCP.
        .connect(new ConnectOptions().setHost(host).setPort(port).setSsl(true))
        .compose(
            socket -> {
              boolean named;
              try {
                named = issuedTo(socket.peerCertificates(), nodeId);
              } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                named = false;
              }
              boolean ok = named;
              return socket
                  .close()
                  .compose(
                      v ->
                          ok
                              ? Future.<Void>succeededFuture()
                              : Future.failedFuture(
                                  new IllegalStateException(
                                      "its certificate is not issued to " + nodeId)));
            })
        .recover(
            e -> {
              LOG.info("join of {} refused: {} ({})", nodeId, raftAddress, e.getMessage());
              return Future.failedFuture(
                  ErrorCode.FORBIDDEN.error(
                      "the node at "
                          + raftAddress
                          + " did not prove it is member "
                          + nodeId
                          + ": it must present a certificate of the cluster CA issued to that"
                          + " name for that address"));
            });
  }

  private static boolean issuedTo(List<java.security.cert.Certificate> chain, String nodeId) {
    if (chain.isEmpty() || !(chain.get(0) instanceof X509Certificate cert)) {
      return false;
    }
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN") && nodeId.equals(String.valueOf(rdn.getValue()))) {
          return true;
        }
      }
      var sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(2).equals(san.get(0)) && nodeId.equals(san.get(1))) {
            return true; // a DNS name
          }
        }
      }
      return false;
    } catch (InvalidNameException | java.security.cert.CertificateParsingException e) {
      return false;
    }
  }

  public Future<Void> close() {
    return client.close();
  }
}
