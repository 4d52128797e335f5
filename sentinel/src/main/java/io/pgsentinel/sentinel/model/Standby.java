package io.pgsentinel.sentinel.model;

/**
 * One replication connection as a primary sees it ({@code pg_stat_replication}).
 *
 * @param name     application_name: the node id, as the sentinels set it in primary_conninfo
 * @param state    streaming, catchup, startup...
 * @param flushLsn what the standby has flushed, or -1 when unknown
 * @param replayLsn what the standby has replayed, or -1 when unknown
 * @param syncState async, sync, quorum, potential
 */
public record Standby(String name, String state, long flushLsn, long replayLsn, String syncState) {
}
