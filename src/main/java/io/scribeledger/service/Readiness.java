package io.scribeledger.service;

import io.scribeledger.consensus.NodeStatus;
import java.util.Optional;

/** This node's status and why it should not take traffic now (empty: it should). */
public record Readiness(NodeStatus status, Optional<String> notReady) {}
