package io.scribeledger.discovery;

/**
 * A member's status changed, as published on {@link DiscoveryVerticle#EVENTS} (and logged once at
 * INFO): its id, address, the status before ({@code null} when newly known) and now, and its
 * incarnation.
 */
public record MemberEvent(
    String nodeId, String address, Packet.Status before, Packet.Status now, long incarnation) {}
