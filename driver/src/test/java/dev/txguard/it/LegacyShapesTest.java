package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Callable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One test per shape in shared/legacy-shapes.md, each written the way that code writes it. */
class LegacyShapesTest {

    // ---- Flyway TransactionTemplate / BenchBase ScriptRunner: save, begin, work, commit, catch rollback, restore

    static <T> T inTransaction(Connection c, Callable<T> work) throws Exception {
        boolean saved = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.call();
            c.commit();
            return result;
        } catch (Exception e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(saved);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void transactionTemplate_insideAnOpenTransaction_commitsAndRollsBackOnlyItsOwnWork(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            inTransaction(c, () -> {
                db.insert(c, 2);
                return null;
            });
            assertThrows(IllegalStateException.class, () -> inTransaction(c, () -> {
                db.insert(c, 3);
                throw new IllegalStateException("migration step failed");
            }));
            db.assertCommitted();
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2);
        }
    }

    // ---- BenchBase Worker: autocommit off once per connection, commit after every unit of work

    static final class Worker {
        final Connection conn;
        final TestDb db;

        Worker(Connection conn, TestDb db) throws SQLException {
            this.conn = conn;
            this.db = db;
            conn.setAutoCommit(false);
        }

        void executeWork(int id) throws SQLException {
            procedure(id);
            conn.commit();
        }

        private void procedure(int id) throws SQLException {
            db.insert(conn, id);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void workerCommittingEveryUnitOfWork_realCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Worker worker = new Worker(db.guarded(), db);
            worker.executeWork(1);
            db.assertCommitted(1);
            worker.executeWork(2);
            db.assertCommitted(1, 2);
        }
    }

    // ---- BenchBase templated GenericQuery: a procedure commits, then its caller commits again

    static void genericQuery(Connection c, TestDb db, int id) throws SQLException {
        db.insert(c, id);
        c.commit(); // a commit from a method that did not begin: plain JDBC
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void procedureCommitsThenItsCallerCommitsAgain_plainJdbc(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            genericQuery(c, db, 1);
            db.assertCommitted(1);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    // ---- MyBatis JdbcTransaction / Jackrabbit: setAutoCommit(true) on purpose, to end (commit) on close

    static final class MyBatisLikeSession implements AutoCloseable {
        final Connection connection;

        MyBatisLikeSession(Connection connection) throws SQLException {
            this.connection = connection;
            connection.setAutoCommit(false);
        }

        @Override
        public void close() throws SQLException {
            connection.setAutoCommit(true); // resetAutoCommit: commits whatever the session did
        }
    }

    static void mapperCall(Connection c, TestDb db, int id) throws SQLException {
        try (MyBatisLikeSession session = new MyBatisLikeSession(c)) {
            db.insert(session.connection, id);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void restoreThatCommits_commitsAtTopLevel_endsOnlyItsScopeWhenNested(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            try (MyBatisLikeSession session = new MyBatisLikeSession(c)) {
                db.insert(session.connection, 1);
            }
            db.assertCommitted(1);

            c.setAutoCommit(false);
            db.insert(c, 2);
            mapperCall(c, db, 3); // a DAO that works through a session of its own
            db.assertCommitted(1);
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    // ---- CoreProtect: transaction state only in SQL text, autocommit on; COMMIT retried when busy

    static void consumeQueue(Connection c, TestDb db, String begin, int... ids) throws SQLException {
        Legacy.sql(c, begin);
        for (int id : ids) db.insert(c, id);
        for (int attempt = 1; ; attempt++) {
            try {
                Legacy.sql(c, "COMMIT");
                return;
            } catch (SQLException busy) {
                if (attempt == 3) throw busy; // retried only when the database was busy
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void sqlTextTransactions_commitAtTopLevel_nestWhenCalledInsideOne(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            consumeQueue(c, db, "BEGIN TRANSACTION", 1, 2);
            db.assertCommitted(1, 2);
            assertTrue(c.getAutoCommit());

            c.setAutoCommit(false);
            db.insert(c, 3);
            consumeQueue(c, db, "START TRANSACTION", 4, 5);
            db.assertCommitted(1, 2);
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2);
        }
    }

    // ---- Quartz JobStoreSupport + AttributeRestoringConnectionInvocationHandler: txguard under an app's proxy

    static Connection attributeRestoring(Connection target) {
        boolean[] original = new boolean[1];
        boolean[] changed = new boolean[1];
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("setAutoCommit") && !changed[0]) {
                original[0] = target.getAutoCommit();
                changed[0] = true;
            }
            if (method.getName().equals("close")) {
                if (changed[0]) target.setAutoCommit(original[0]);
                return null; // Quartz would close the target here; the test keeps using it
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Connection) Proxy.newProxyInstance(LegacyShapesTest.class.getClassLoader(),
                new Class<?>[] {Connection.class}, handler);
    }

    static void storeJob(Connection pooled, TestDb db, int id, boolean fail) throws SQLException {
        Connection conn = attributeRestoring(pooled);
        try {
            conn.setAutoCommit(false);
            db.insert(conn, id);
            if (fail) throw new SQLException("job store failure");
            conn.commit();
        } catch (SQLException e) {
            conn.rollback();
            throw e;
        } finally {
            conn.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void underTheApplicationsOwnConnectionProxy_callsCountAsTheCallers(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            storeJob(c, db, 1, false);
            db.assertCommitted(1);
            assertTrue(c.getAutoCommit());

            c.setAutoCommit(false);
            db.insert(c, 2);
            storeJob(c, db, 3, false);
            assertThrows(SQLException.class, () -> storeJob(c, db, 4, true)); // a rollback by its owner: not stray
            db.insert(c, 5);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2, 3, 5);
        }
    }

    // ---- linushp-orm TransactionUtil / Streamline: a thread-local depth counter flattens nesting

    static final ThreadLocal<Integer> DEPTH = ThreadLocal.withInitial(() -> 0);

    static void flatBegin(Connection c) throws SQLException {
        if (DEPTH.get() == 0) c.setAutoCommit(false);
        DEPTH.set(DEPTH.get() + 1);
    }

    static void flatRollback(Connection c) throws SQLException {
        if (DEPTH.get() == 1) c.rollback(); // an inner rollback simply returns: it is lost
    }

    static void flatEnd(Connection c) throws SQLException {
        DEPTH.set(DEPTH.get() - 1);
        if (DEPTH.get() == 0) {
            c.commit();
            c.setAutoCommit(true);
        }
    }

    static void flattened(Connection c, TestDb db) throws SQLException {
        flatBegin(c);
        db.insert(c, 1);
        flatBegin(c);
        db.insert(c, 2);
        flatRollback(c);
        flatEnd(c);
        flatEnd(c);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void depthCounterThatSwallowsInnerCalls_staysExactlyAsWithoutTxguard(Database database) throws Exception {
        // What never reaches JDBC cannot be guarded: the inner rollback is lost with or without txguard.
        try (TestDb db = TestDb.open(database)) {
            flattened(db.raw(), db);
            db.assertCommitted(1, 2);
            Legacy.sql(db.raw(), "DELETE FROM " + db.table);
            flattened(db.guarded(), db);
            db.assertCommitted(1, 2);
        }
    }

    // ---- Openfire DbConnectionManager: nested calls each take their own connection

    /** Not on SQLite, which lets one connection write at a time: the inner insert would wait for the outer. */
    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void nestedCallsOnSeparateConnections_areIndependentTransactions(Database database) throws Exception {
        // No nesting on one connection, so nothing for txguard to guard (thread-level tracking is not in scope).
        try (TestDb db = TestDb.open(database)) {
            Connection outer = db.guarded();
            Connection inner = db.guarded();
            outer.setAutoCommit(false);
            db.insert(outer, 1);
            inner.setAutoCommit(false);
            db.insert(inner, 2);
            inner.commit();
            inner.setAutoCommit(true);
            outer.rollback();
            outer.setAutoCommit(true);
            db.assertCommitted(2);
        }
    }

    // ---- aws-advanced-jdbc-wrapper #282: switching autocommit back on commits, and state must follow

    static void saveAndSwitchBack(Connection c, TestDb db, int id) throws SQLException {
        c.setAutoCommit(false);
        db.insert(c, id);
        c.setAutoCommit(true);
    }

    static void beginAndCommit(Connection c, TestDb db, int id) throws SQLException {
        c.setAutoCommit(false);
        db.insert(c, id);
        c.commit();
        c.setAutoCommit(true);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void autocommitBackOn_commitsAndLeavesNoTransactionBehind(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            saveAndSwitchBack(c, db, 1);
            db.assertCommitted(1);
            assertTrue(c.getAutoCommit());
            c.setAutoCommit(false);
            assertFalse(c.getAutoCommit());
            c.setAutoCommit(true);
            beginAndCommit(c, db, 2); // outermost again: its commit is real
            db.assertCommitted(1, 2);
        }
    }

    // ---- ldbc #732: a pool whose reset calls setAutoCommit(true) before rollback()

    /** A hand-written pool's handle: on close it resets autocommit first, then rolls back. */
    static final class HandRolledPoolHandle extends ConnectionForwarder {
        HandRolledPoolHandle(Connection physical) {
            super(physical);
        }

        @Override
        public void close() throws SQLException {
            physical.setAutoCommit(true); // the wrong order: without txguard this commits abandoned work
            physical.rollback();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void poolResettingAutocommitBeforeRollback_abandonedWorkIsRolledBack(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection rawPhysical = db.raw();
            abandonWork(new HandRolledPoolHandle(rawPhysical), db);
            db.assertCommitted(1); // the hazard

            Legacy.sql(rawPhysical, "DELETE FROM " + db.table);
            Connection physical = db.guarded();
            abandonWork(new HandRolledPoolHandle(physical), db);
            db.assertCommitted();
            Connection next = new HandRolledPoolHandle(physical);
            assertTrue(next.getAutoCommit());
            db.insert(next, 2);
            ignoringFailure(next);
            db.assertCommitted(2);
        }
    }

    private static void abandonWork(Connection handle, TestDb db) throws SQLException {
        try {
            handle.setAutoCommit(false);
            db.insert(handle, 1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        } finally {
            ignoringFailure(handle);
        }
    }

    private static void ignoringFailure(Connection handle) {
        try {
            handle.close();
        } catch (SQLException e) {
            // PostgreSQL refuses the rollback after autocommit went back on; the rows left are what counts
        }
    }
}
