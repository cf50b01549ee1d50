package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.named;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.description.modifier.Visibility;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.implementation.FieldAccessor;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.implementation.StubMethod;
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
     * the middle of one window, and what runs meanwhile, interpreted, may allocate what the compiled code's
     * escape analysis removes: once, not per call.
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
     * A driver that allocates nothing per call, so that every byte counted on the guarded side is
     * txguard's. (A dynamic proxy would allocate each call's argument array, and whether the JIT removes
     * it depends on how deep the call sits: under txguard's wrapper it sometimes stayed, 24 bytes a call.)
     * Every method answers its type's default (false, 0, null) unless named below.
     */
    static final class StubDriver {
        static Connection connection() throws ReflectiveOperationException {
            Stubs stubs = new Stubs();
            DatabaseMetaData metaData = stubs.instance(stub(DatabaseMetaData.class, Map.of("getDatabaseProductName", "H2")));
            ResultSet resultSet = stubs.instance(stub(ResultSet.class, Map.of()));
            PreparedStatement prepared = stubs.instance(stub(PreparedStatement.class, Map.of("executeQuery", resultSet)));
            Statement statement = stubs.instance(stub(Statement.class, Map.of()));
            Connection connection = stubs.instance(stub(Connection.class,
                    Map.of("getMetaData", metaData, "prepareStatement", prepared, "createStatement", statement))
                    .defineField("autoCommit", boolean.class, Visibility.PUBLIC)
                    .method(named("getAutoCommit").or(named("setAutoCommit"))).intercept(FieldAccessor.ofField("autoCommit")));
            connection.getClass().getField("autoCommit").setBoolean(connection, true);
            return connection;
        }

        private static DynamicType.Builder<?> stub(Class<?> type, Map<String, Object> answers) {
            DynamicType.Builder<?> builder = new ByteBuddy().subclass(Object.class).implement(type)
                    .method(isAbstract()).intercept(StubMethod.INSTANCE);
            for (Map.Entry<String, Object> answer : answers.entrySet()) {
                builder = builder.method(named(answer.getKey())).intercept(FixedValue.reference(answer.getValue()));
            }
            return builder;
        }

        /** Each stub is loaded where the stubs made before it are visible: it holds them in fields of their own types. */
        private static final class Stubs {
            private ClassLoader loader = HotPathAllocationTest.class.getClassLoader();

            @SuppressWarnings("unchecked")
            <T> T instance(DynamicType.Builder<?> builder) throws ReflectiveOperationException {
                Class<?> type = builder.make().load(loader).getLoaded();
                loader = type.getClassLoader();
                return (T) type.getConstructor().newInstance();
            }
        }
    }
}
