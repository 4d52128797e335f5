package io.pgsentinel.sentinel.zk;

import io.pgsentinel.shared.topology.Topology;
import io.pgsentinel.shared.topology.TopologyCodec;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorEvent;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.KeeperException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every write of the leader, each a ZooKeeper transaction that also checks the leader's own
 * latch node: a deposed leader (its session expired, its latch node gone) cannot write, even if
 * it still believes it leads. Topology writes also check the version that was read
 * (compare-and-set): never last-writer-wins.
 */
public final class LeaderWrites {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderWrites.class);

    /** The outcome of a conditional write. */
    public enum Outcome {
        /** Written. */
        OK,
        /** The latch node is gone: this sentinel no longer leads. */
        NOT_LEADER,
        /** The node changed since it was read. */
        CONFLICT,
        /** No answer, or another error: unknown whether it was written. */
        FAILED
    }

    private final ZkSession session;
    private final Duration timeout;

    public LeaderWrites(ZkSession session, Duration timeout) {
        this.session = session;
        this.timeout = timeout;
    }

    /** Creates the first topology (no node yet), if still leader. */
    public Outcome createTopology(Leadership.Term term, Topology topology) {
        CuratorFramework c = session.client();
        try {
            return run(term, List.of(
                    c.transactionOp().check().forPath(term.latchPath()),
                    c.transactionOp().create().forPath(session.paths().topology(), TopologyCodec.encode(topology))),
                    "create the topology (epoch " + topology.epoch() + ")");
        } catch (Exception e) {
            return failed("create the topology", e);
        }
    }

    /** Replaces the topology if it still has {@code version}, if still leader. */
    public Outcome setTopology(Leadership.Term term, Topology topology, int version) {
        CuratorFramework c = session.client();
        try {
            return run(term, List.of(
                    c.transactionOp().check().forPath(term.latchPath()),
                    c.transactionOp().setData().withVersion(version).forPath(session.paths().topology(),
                            TopologyCodec.encode(topology))),
                    "publish the topology (epoch " + topology.epoch() + ", version " + version + ")");
        } catch (Exception e) {
            return failed("publish the topology", e);
        }
    }

    /** Creates or replaces a persistent document (the decision node...), if still leader. */
    public Outcome putDocument(Leadership.Term term, String path, byte[] data, boolean exists) {
        CuratorFramework c = session.client();
        try {
            CuratorOp write = exists ? c.transactionOp().setData().forPath(path, data)
                    : c.transactionOp().create().forPath(path, data);
            return run(term, List.of(c.transactionOp().check().forPath(term.latchPath()), write), "write " + path);
        } catch (Exception e) {
            return failed("write " + path, e);
        }
    }

    /** Deletes {@code path} (a request or an announcement that has served), if still leader. */
    public Outcome delete(Leadership.Term term, String path, String what) {
        CuratorFramework c = session.client();
        try {
            return run(term, List.of(c.transactionOp().check().forPath(term.latchPath()),
                    c.transactionOp().delete().forPath(path)), what);
        } catch (Exception e) {
            return failed(what, e);
        }
    }

    /** Runs {@code ops} (the first being the latch check) as one transaction. */
    public Outcome run(Leadership.Term term, List<CuratorOp> ops, String what) {
        try {
            CuratorEvent event = session.await(cb -> session.client().transaction().inBackground(cb).forOperations(ops),
                    timeout);
            KeeperException.Code code = KeeperException.Code.get(event.getResultCode());
            if (code == KeeperException.Code.OK) {
                return Outcome.OK;
            }
            Outcome outcome = classify(event, code);
            LOG.warn("could not {}: {} ({}, term {})", what, describe(outcome), code, term.number());
            return outcome;
        } catch (Exception e) {
            return failed(what, e);
        }
    }

    private static Outcome classify(CuratorEvent event, KeeperException.Code code) {
        // in a failed transaction the failing operation carries its error, those after it
        // RUNTIMEINCONSISTENCY: operation 0 is the latch check
        List<CuratorTransactionResult> results = event.getOpResults();
        if (results != null && !results.isEmpty()) {
            int first = results.get(0).getError();
            if (first != KeeperException.Code.OK.intValue() && first != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                return Outcome.NOT_LEADER;
            }
        }
        if (code == KeeperException.Code.NONODE) {
            return Outcome.NOT_LEADER;
        }
        if (code == KeeperException.Code.BADVERSION || code == KeeperException.Code.NODEEXISTS) {
            return Outcome.CONFLICT;
        }
        return Outcome.FAILED;
    }

    private static String describe(Outcome o) {
        return switch (o) {
            case NOT_LEADER -> "this sentinel's latch node is gone: it no longer leads";
            case CONFLICT -> "the node changed since it was read";
            default -> "no answer or an error";
        };
    }

    private static Outcome failed(String what, Exception e) {
        LOG.warn("could not {}: {}", what, e.toString());
        return Outcome.FAILED;
    }
}
