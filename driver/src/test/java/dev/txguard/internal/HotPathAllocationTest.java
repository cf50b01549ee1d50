package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The hot path allocates nothing of txguard's own: every execute on a prepared statement, a plain
 * statement's execute (its SQL classified on each call), and every ResultSet call. Measured in bytes,
 * exactly, with the JVM's per-thread allocation counter, against a stub driver that does the same
 * calls without txguard, so that only what txguard adds is counted. (Timing is for the benchmarks.)
 */
class HotPathAllocationTest {

    private static final int CALLS = 20_000;

    interface Work {
        void run() throws SQLException;
    }

    @Test
    void preparedExecute_inAutocommitAndInATransaction() throws Exception {
        Connection raw = StubDriver.connection();
        Connection guarded = Guard.wrap(StubDriver.connection());
        PreparedStatement rawInsert = raw.prepareStatement("INSERT INTO t (id) VALUES (?)");
        PreparedStatement guardedInsert = guarded.prepareStatement("INSERT INTO t (id) VALUES (?)");
        assertNoExtraAllocation("prepared executeUpdate, autocommit", () -> {
            rawInsert.setInt(1, 7);
            rawInsert.executeUpdate();
        }, () -> {
            guardedInsert.setInt(1, 7);
            guardedInsert.executeUpdate();
        });
        assertNoExtraAllocation("prepared execute, autocommit", rawInsert::execute, guardedInsert::execute);
        raw.setAutoCommit(false);
        guarded.setAutoCommit(false);
        assertEquals(1, EngineProbe.openScopes(guarded));
        assertNoExtraAllocation("prepared executeUpdate, in the outermost transaction", rawInsert::executeUpdate,
                guardedInsert::executeUpdate);
    }

    @Test
    void statementExecute_classifiesWithoutAllocating() throws Exception {
        Statement raw = StubDriver.connection().createStatement();
        Statement guarded = Guard.wrap(StubDriver.connection()).createStatement();
        String sql = "/* a comment */ UPDATE accounts SET balance = balance - 1 WHERE id = 'begin; commit'";
        assertNoExtraAllocation("Statement.execute(String)", () -> raw.execute(sql), () -> guarded.execute(sql));
        assertNoExtraAllocation("Statement.executeUpdate(String)", () -> raw.executeUpdate(sql),
                () -> guarded.executeUpdate(sql));
    }

    @Test
    void resultSetCalls() throws Exception {
        ResultSet raw = StubDriver.connection().prepareStatement("SELECT id FROM t").executeQuery();
        ResultSet guarded = Guard.wrap(StubDriver.connection()).prepareStatement("SELECT id FROM t").executeQuery();
        assertNoExtraAllocation("ResultSet.next and getters", () -> {
            raw.next();
            raw.getInt(1);
            raw.getLong("id");
        }, () -> {
            guarded.next();
            guarded.getInt(1);
            guarded.getLong("id");
        });
    }

    private static void assertNoExtraAllocation(String what, Work raw, Work guarded) throws SQLException {
        long rawBytes = allocatedBy(raw);
        long guardedBytes = allocatedBy(guarded);
        long extra = guardedBytes - rawBytes;
        // A single object per call would be 16 bytes or more per call; allow a few bytes in all for the counter.
        assertTrue(extra < 64, what + ": txguard allocated " + extra + " bytes over " + CALLS + " calls"
                + " (raw " + rawBytes + ", guarded " + guardedBytes + ")");
    }

    /**
     * The least of three windows: in a JVM that has run many other tests, the JIT may recompile a path in
     * the middle of one window, and what runs meanwhile (the stub's boxing, interpreted) allocates once,
     * not per call.
     */
    private static long allocatedBy(Work work) throws SQLException {
        for (int i = 0; i < CALLS; i++) work.run(); // first calls load and link classes
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long least = Long.MAX_VALUE;
        for (int window = 0; window < 3; window++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < CALLS; i++) work.run();
            least = Math.min(least, threads.getThreadAllocatedBytes(id) - before);
        }
        return least;
    }

    /**
     * A driver that answers every call with a constant: its own allocations (a dynamic proxy's argument
     * arrays) are the same with and without txguard, so they cancel out.
     */
    static final class StubDriver {
        static Connection connection() {
            DatabaseMetaData metaData = stub(DatabaseMetaData.class, (p, m, a) -> {
                if (m.getName().equals("getDatabaseProductName")) return "H2";
                return defaultFor(m.getReturnType());
            });
            ResultSet resultSet = stub(ResultSet.class, (p, m, a) -> defaultFor(m.getReturnType()));
            PreparedStatement prepared = stub(PreparedStatement.class, (p, m, a) -> {
                if (m.getName().equals("executeQuery")) return resultSet;
                return defaultFor(m.getReturnType());
            });
            Statement statement = stub(Statement.class, (p, m, a) -> defaultFor(m.getReturnType()));
            boolean[] autoCommit = {true};
            return stub(Connection.class, (p, m, a) -> {
                switch (m.getName()) {
                    case "getMetaData": return metaData;
                    case "prepareStatement": return prepared;
                    case "createStatement": return statement;
                    case "getAutoCommit": return autoCommit[0];
                    case "setAutoCommit":
                        autoCommit[0] = (Boolean) a[0];
                        return null;
                    case "isWrapperFor": return false;
                    default: return defaultFor(m.getReturnType());
                }
            });
        }

        /** Constants only (small boxed values are cached by the JDK), so the stub allocates the same each call. */
        private static Object defaultFor(Class<?> type) {
            if (type == boolean.class) return Boolean.TRUE;
            if (type == int.class) return 1;
            if (type == long.class) return 1L;
            if (type == short.class) return (short) 0;
            if (type == byte.class) return (byte) 0;
            if (type == float.class) return 0f;
            if (type == double.class) return 0d;
            return null;
        }

        @SuppressWarnings("unchecked")
        private static <T> T stub(Class<T> type, InvocationHandler handler) {
            return (T) Proxy.newProxyInstance(HotPathAllocationTest.class.getClassLoader(), new Class<?>[] {type}, handler);
        }
    }
}
