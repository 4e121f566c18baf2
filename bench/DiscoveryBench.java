import io.scribeledger.discovery.Keyring;
import io.scribeledger.discovery.Packet;
import io.scribeledger.discovery.PacketCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What authenticating discovery datagrams costs: encoding with HMAC-SHA256 and checking one (MAC,
 * cluster, time, replay) per packet, for a ping carrying four membership updates; and the CPU that
 * makes per member at SWIM's rate (about four datagrams a second each way at 1 s rounds).
 *
 * <p>Run: {@code java -cp target/scribe-ledger.jar bench/DiscoveryBench.java [PACKETS]}
 */
public class DiscoveryBench {
  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    Keyring keys =
        new Keyring("k1", Map.of("k1", "bench-secret-0123456789".getBytes(StandardCharsets.UTF_8)));
    PacketCodec sender = new PacketCodec(keys, "scribe-ledger", 30_000);
    List<Packet.Update> updates = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      updates.add(
          new Packet.Update("n" + i, "10.0.0." + i + ":7946", Packet.Status.ALIVE, i, "n1"));
    }
    long now = System.currentTimeMillis();
    byte[][] datagrams = new byte[n][];
    for (int round = 0; round < 2; round++) { // the first round warms the JIT up
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        datagrams[i] =
            sender
                .encode(
                    new Packet(
                        Packet.Type.PING,
                        "n1",
                        "10.0.0.1:7946",
                        "10.0.0.1:9080",
                        "10.0.0.1:8080",
                        1,
                        i + 1L,
                        now,
                        i,
                        "",
                        "",
                        List.of()),
                    updates)
                .bytes();
      }
      long encodeNs = System.nanoTime() - t0;
      PacketCodec receiver = new PacketCodec(keys, "scribe-ledger", 30_000);
      t0 = System.nanoTime();
      int accepted = 0;
      for (int i = 0; i < n; i++) {
        if (receiver.decode(datagrams[i], now) instanceof PacketCodec.Result.Accepted) {
          accepted++;
        }
      }
      long decodeNs = System.nanoTime() - t0;
      if (round == 1) {
        double enc = encodeNs / 1000.0 / n;
        double dec = decodeNs / 1000.0 / n;
        System.out.printf(
            "%d datagrams of %d bytes: encode+sign %.2f us, check+decode %.2f us per packet (%d"
                + " accepted)%n",
            n, datagrams[0].length, enc, dec, accepted);
        // Per member and second at 1 s rounds: a ping and an ack out, a ping and an ack in, on
        // average (more in a round with indirect probes or news to spread).
        double usPerSecond = 2 * enc + 2 * dec;
        System.out.printf(
            "CPU per member per second at SWIM's rate (2 out, 2 in): %.1f us = %.4f %% of a core%n",
            usPerSecond, usPerSecond / 10_000.0);
      }
    }
  }
}
