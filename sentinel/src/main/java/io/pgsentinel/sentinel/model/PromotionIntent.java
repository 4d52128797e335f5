package io.pgsentinel.sentinel.model;

/**
 * What a leader wrote to ZooKeeper, in a transaction that checked its leadership, right before
 * promoting a server: {@code candidate} replaces {@code oldPrimary} as the primary of
 * {@code epoch}. Removed when that epoch is published. A successor that finds it knows a server
 * may have been promoted that no report shows yet.
 */
public record PromotionIntent(String oldPrimary, String candidate, long epoch, String leader) {
}
