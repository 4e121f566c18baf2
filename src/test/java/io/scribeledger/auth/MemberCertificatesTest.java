package io.scribeledger.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.support.TestCerts;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node proves membership only with the certificate of the cluster CA issued to its id, for the
 * address it names: that passes; another CA, a self-signed certificate, no TLS, an address or a
 * node id the certificate does not carry fail with 403.
 */
@ExtendWith(VertxExtension.class)
class MemberCertificatesTest {

  @Test
  void onlyACertificateOfTheClusterCaForTheNamedAddressProvesMembership(
      Vertx vertx, @TempDir Path dir) throws Exception {
    TestCerts cluster = TestCerts.make(dir.resolve("cluster"), "n1", "n2");
    TestCerts other = TestCerts.make(dir.resolve("other"), "n2");
    MemberCertificates check =
        new MemberCertificates(
            vertx, new NodeConfig.Tls(cluster.cert("n1"), cluster.key("n1"), cluster.ca()));
    NetServer member = tlsServer(vertx, cluster.cert("n2"), cluster.key("n2"));
    NetServer otherCa = tlsServer(vertx, other.cert("n2"), other.key("n2"));
    NetServer selfSigned = tlsServer(vertx, other.ca(), other.dir().resolve("ca-key.pem"));
    NetServer plain =
        vertx.createNetServer().connectHandler(s -> {}).listen(0, "127.0.0.1").await();
    try {
      assertEquals("", outcome(check.verify("n2", "127.0.0.1:" + member.actualPort())));
      assertEquals("", outcome(check.verify("n2", "localhost:" + member.actualPort())));
      for (NetServer s : new NetServer[] {otherCa, selfSigned, plain}) {
        String failure = outcome(check.verify("n2", "127.0.0.1:" + s.actualPort()));
        assertTrue(failure.contains("did not prove"), failure);
      }
      // The certificate is the cluster's, but not for this name.
      String wrongName = outcome(check.verify("n2", "127.0.0.2:" + member.actualPort()));
      assertTrue(wrongName.contains("did not prove"), wrongName);
      // A member's own certificate does not prove another member's name: n2 cannot join as n3.
      String otherMember = outcome(check.verify("n3", "127.0.0.1:" + member.actualPort()));
      assertTrue(otherMember.contains("did not prove"), otherMember);
    } finally {
      check.close().await();
      for (NetServer s : new NetServer[] {member, otherCa, selfSigned, plain}) {
        s.close().await();
      }
    }
  }

  private static NetServer tlsServer(Vertx vertx, Path cert, Path key) {
    return vertx
        .createNetServer(
            new NetServerOptions()
                .setSsl(true)
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .setCertPath(cert.toString())
                        .setKeyPath(key.toString())))
        .connectHandler(s -> {})
        .listen(0, "0.0.0.0")
        .await();
  }

  /** Empty when the check passed, else its failure message (always 403 forbidden). */
  private static String outcome(Future<Void> check) throws Exception {
    try {
      check.await(20, TimeUnit.SECONDS);
      return "";
    } catch (io.scribeledger.error.LedgerException e) {
      assertEquals(io.scribeledger.error.ErrorCode.FORBIDDEN, e.error().code());
      return e.getMessage();
    }
  }
}
