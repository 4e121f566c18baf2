package io.scribeledger.discovery;

import java.util.List;
import java.util.Map;

/**
 * What the discovery verticle answers on its door: every member as this node sees it, this node's
 * local health score (0 healthy, up to 8), and the datagrams dropped so far by reason.
 */
public record DiscoveryStatus(List<Member> members, int localHealth, Map<String, Long> dropped) {

  /** One member: its status, when this node last heard from it, incarnation, suspecters. */
  public record Member(
      String nodeId,
      String address,
      String status,
      long lastSeenMs,
      long incarnation,
      int suspectedBy) {}
}
