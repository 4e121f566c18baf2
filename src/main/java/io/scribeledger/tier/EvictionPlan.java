package io.scribeledger.tier;

import io.scribeledger.config.NodeConfig;
import io.scribeledger.ledger.SegmentInfo;
import io.scribeledger.service.TierView;
import io.scribeledger.storage.SegmentStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which sealed segment files this node may drop: only those whose archived copy the committed
 * manifest holds, outside the retention (the newest {@code retainSegments}, and those sealed less
 * than {@code retainAgeMs} ago), and, among segments read since start (recalled ones), beyond the
 * most recently read {@code cacheBytes}. Pure.
 */
public final class EvictionPlan {

  private EvictionPlan() {}

  /** Segment ids to evict now, oldest first. */
  public static List<Long> choose(TierView view, NodeConfig.Tiering config, long now) {
    List<SegmentInfo> sealed = view.sealed();
    Set<Long> retained = new HashSet<>();
    for (int i = Math.max(0, sealed.size() - config.retainSegments()); i < sealed.size(); i++) {
      retained.add(sealed.get(i).id());
    }
    if (config.retainAgeMs() > 0) {
      sealed.stream()
          .filter(s -> now - s.createdAt() < config.retainAgeMs())
          .forEach(s -> retained.add(s.id()));
    }
    List<SegmentStore.LocalSegment> candidates = new ArrayList<>();
    for (SegmentStore.LocalSegment local : view.local()) {
      if (view.archived().containsKey(local.id()) && !retained.contains(local.id())) {
        candidates.add(local);
      }
    }
    // The most recently read stay, as a cache, while they fit; never-read ones go first.
    candidates.sort(Comparator.comparingLong(SegmentStore.LocalSegment::lastReadMs).reversed());
    long cached = 0;
    List<Long> evict = new ArrayList<>();
    for (SegmentStore.LocalSegment c : candidates) {
      if (c.lastReadMs() > 0 && cached + c.sizeBytes() <= config.cacheBytes()) {
        cached += c.sizeBytes();
      } else {
        evict.add(c.id());
      }
    }
    evict.sort(Comparator.naturalOrder());
    return evict;
  }
}
