package io.scribeledger.consensus;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.scribeledger.support.Ports;
import io.scribeledger.support.TestNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The configured peers only seed a new group; a data directory that ran alone says so when started
 * as a member.
 */
class RecoveredGroupTest {

  @Test
  void aDataDirectoryThatRanAloneWarnsWhenStartedAsAClusterMember(@TempDir Path dir) {
    JsonObject single = TestNode.config("n1", dir, new JsonObject());
    TestNode.start(single).close(); // a one-member group now lives in dir
    JsonObject raft = single.getJsonObject("raft");
    JsonArray peers =
        new JsonArray()
            .add(peer("n1", raft.getInteger("port")))
            .add(peer("n2", Ports.free()))
            .add(peer("n3", Ports.free()));
    JsonObject member = single.copy();
    member.getJsonObject("raft").put("peers", peers);

    Logger logger = (Logger) LoggerFactory.getLogger(RaftNode.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    TestNode node = TestNode.launch(member);
    try {
      assertTrue(
          events.list.stream()
              .anyMatch(
                  e ->
                      e.getLevel() == Level.WARN
                          && e.getFormattedMessage().contains("one-member Raft group of n1 alone")
                          && e.getFormattedMessage().contains("[n1, n2, n3] are ignored")),
          events.list::toString);
    } finally {
      logger.detachAppender(events);
      node.close();
    }
  }

  private static JsonObject peer(String id, int raftPort) {
    return new JsonObject()
        .put("id", id)
        .put("raftAddress", "127.0.0.1:" + raftPort)
        .put("httpAddress", "127.0.0.1:" + Ports.free());
  }
}
