package io.pgsentinel.sentinel.decision;

import io.pgsentinel.sentinel.model.Vote;

/**
 * A vote and when this sentinel received that version of it, on its own monotonic clock (a
 * sentinel that just became leader counts from when it first read it: its timers restart).
 */
public record VoteSeen(Vote vote, long receivedAtMillis) {
}
