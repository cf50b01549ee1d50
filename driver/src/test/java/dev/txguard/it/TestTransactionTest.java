package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.TestTransaction;
import dev.txguard.TxGuard;
import dev.txguard.TxGuardDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Test transactions (dev.txguard.TestTransaction): whatever the code under test commits, nothing is left in the
 * database after the test, and inside the test the code behaves as in production. What is left is read from a
 * connection txguard does not guard, after the test transaction ended.
 */
class TestTransactionTest {

    /** Ids as a guarded connection inside the test transaction sees them. */
    private static Set<Integer> seenBy(Connection c, TestDb db) throws SQLException {
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + db.table)) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    private static Set<Integer> ids(Integer... ids) {
        return new TreeSet<>(List.of(ids));
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void whatTheCodeCommitsIsSeenInsideTheTestAndGoneAfterIt(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("commits")) {
                Connection a = db.guarded();
                Connection b = db.guarded();
                db.serviceRollsBackItsNestedDao(a); // the DAO's commit is a release inside the service's scope
                new Legacy.Dao(db.table).saveClassic(a, 3); // its own outermost transaction: committed, as far as it knows
                assertTrue(a.getAutoCommit(), "after its restore, as in production");
                assertEquals(ids(3), seenBy(b, db), "another handle sees the committed row");
                b.setAutoCommit(false);
                db.insert(b, 4);
                assertEquals(ids(3, 4), seenBy(a, db), "handles share one connection: uncommitted work is seen too");
                b.rollback();
                b.setAutoCommit(true);
                assertEquals(ids(3), seenBy(a, db), "the rollback undid only b's transaction");
                a.close();
                b.close();
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void nestedTestTransactions_classDataStaysForEachTest_andGoesWithTheClass(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction classLevel = TestTransaction.begin("class")) {
                try (Connection setUp = db.guarded()) {
                    db.insert(setUp, 1);
                }
                for (int test = 10; test < 13; test++) {
                    try (TestTransaction t = classLevel.nested("test " + test); Connection c = db.guarded()) {
                        assertEquals(ids(1), seenBy(c, db), "each test starts with the class data only");
                        new Legacy.Dao(db.table).saveClassic(c, test);
                        assertEquals(ids(1, test), seenBy(c, db));
                    }
                }
                try (Connection c = db.guarded()) {
                    assertEquals(ids(1), seenBy(c, db));
                }
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aPoolInsideTheTest_itsResetAndCloseReachOnlyTheApplicationsTransactions(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("pool")) {
                try (GuardedPool pool = db.guardedPool(false)) { // manual mode, as many legacy pools run
                    try (Connection c = pool.getConnection()) {
                        db.insert(c, 1);
                        c.commit();
                        db.insert(c, 2); // returned uncommitted: the pool rolls it back
                    }
                    try (Connection c1 = pool.getConnection(); Connection c2 = pool.getConnection()) {
                        assertEquals(ids(1), seenBy(c1, db));
                        assertFalse(c2.getAutoCommit(), "the pool's manual mode, as in production");
                    }
                }
                try (Connection c = db.guarded()) {
                    assertEquals(ids(1), seenBy(c, db), "the pool's close ended none of the test transaction");
                }
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.PoolKindsTest#everyPoolAndDatabase")
    void everyPoolKind_itsResetOnReturnAndCloseReachOnlyTheBorrowersTransactions(Database database, PoolKindsTest.Kind kind,
                                                                               boolean autoCommit) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin(kind + " pool")) {
                try (PoolKindsTest.Pool pool = new PoolKindsTest.Pool(db, kind, autoCommit)) {
                    try (Connection c = pool.dataSource.getConnection()) {
                        new Legacy.Dao(db.table).saveClassic(c, 1);
                    }
                    try (Connection c = pool.dataSource.getConnection()) {
                        c.setAutoCommit(false);
                        db.insert(c, 2); // left uncommitted: the pool ends it as it takes the connection back
                    }
                    try (Connection c = pool.dataSource.getConnection()) {
                        assertEquals(ids(1), seenBy(c, db), "the next borrower sees what the first committed only");
                        assertEquals(autoCommit, c.getAutoCommit(), "the pool's mode, as in production");
                    }
                }
                try (Connection c = db.guarded()) {
                    assertEquals(ids(1), seenBy(c, db), "the pool's close ended none of the test transaction");
                }
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void connectionsTakenOnOtherThreads_joinTheTestTransaction(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newSingleThreadExecutor();
            try (TestTransaction test = TestTransaction.begin("threads")) {
                executor.submit(() -> {
                    try (Connection c = db.guarded()) {
                        new Legacy.Dao(db.table).saveClassic(c, 1);
                    }
                    return null;
                }).get();
                Set<Integer> seenAsync = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try (Connection c = db.guarded()) {
                        new Legacy.Dao(db.table).saveClassic(c, 2);
                        return seenBy(c, db);
                    } catch (SQLException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                }).get();
                assertEquals(ids(1, 2), seenAsync);
                try (Connection c = db.guarded()) {
                    assertEquals(ids(1, 2), seenBy(c, db));
                }
            } finally {
                executor.shutdown();
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void aWrappedPoolOfOneConnection_givesHandlesWithoutWaitingForASecond(Database database) throws Exception {
        Assumptions.assumeFalse(dev.txguard.internal.EngineProbe.agentGuardsConnections(), "under the agent the pool's own"
                + " connections are the test's handles, and a pool of one gives one at a time, as in production");
        try (TestDb db = TestDb.open(database)) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(db.rawUrl);
            config.setMaximumPoolSize(1);
            config.setConnectionTimeout(2_000); // a wait for a second connection fails the test instead of hanging it
            try (HikariDataSource pool = new HikariDataSource(config)) {
                TxGuardDataSource guarded = new TxGuardDataSource(pool);
                try (TestTransaction test = TestTransaction.begin("pool of one");
                     Connection a = guarded.getConnection(); Connection b = guarded.getConnection()) {
                    new Legacy.Dao(db.table).saveClassic(a, 1);
                    assertEquals(ids(1), seenBy(b, db));
                }
            }
            db.assertCommitted();
        }
    }

    /**
     * The first connection of a database borrowed through a TxGuardDataSource over a pool is the pool's: it goes back
     * as the test transaction ends, so the pool's close (which aborts what is borrowed) takes nothing of a later test's.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void aPoolThatGaveTheTestsConnectionClosesAfterIt_andTheNextTestGetsAnother(Database database) throws Exception {
        Assumptions.assumeFalse(dev.txguard.internal.EngineProbe.agentGuardsConnections(), "under the agent the pool's own"
                + " connections, opened before the test, are guarded by the agent and refused inside it");
        try (TestDb db = TestDb.open(database)) {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(db.rawUrl);
            config.setMaximumPoolSize(1);
            try (HikariDataSource pool = new HikariDataSource(config)) {
                try (TestTransaction test = TestTransaction.begin("through the pool");
                     Connection c = new TxGuardDataSource(pool).getConnection()) {
                    db.insert(c, 1);
                }
                assertEquals(0, pool.getHikariPoolMXBean().getActiveConnections(), "given back as the test ended");
            }
            try (TestTransaction test = TestTransaction.begin("after the pool closed")) {
                Connection c = db.guarded();
                db.insert(c, 2);
                assertEquals(ids(2), seenBy(c, db));
            }
            db.assertCommitted();
        }
    }

    /** A database whose driver has no savepoints (or no transactions) cannot hold a test: said at its first connection. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "H2")
    void aDatabaseWithoutSavepoints_isRefusedAtItsFirstConnection(Database database) throws Exception {
        Assumptions.assumeFalse(dev.txguard.internal.EngineProbe.agentGuardsConnections(), "under the agent the connection"
                + " the stand-in data source opens is pinned by the agent, before the stand-in could say it has no savepoints");
        try (TestDb db = TestDb.open(database)) {
            ClassLoader loader = getClass().getClassLoader();
            javax.sql.DataSource withoutSavepoints = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(loader,
                    new Class<?>[] {javax.sql.DataSource.class}, (source, call, none) -> {
                        if (!"getConnection".equals(call.getName())) throw new UnsupportedOperationException(call.getName());
                        Connection real = DriverManager.getConnection(db.rawUrl);
                        java.sql.DatabaseMetaData meta = real.getMetaData();
                        Object saysNo = java.lang.reflect.Proxy.newProxyInstance(loader,
                                new Class<?>[] {java.sql.DatabaseMetaData.class}, (proxy, method, args) ->
                                        "supportsSavepoints".equals(method.getName()) ? Boolean.FALSE : method.invoke(meta, args));
                        return java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] {Connection.class},
                                (proxy, method, args) -> "getMetaData".equals(method.getName()) ? saysNo : method.invoke(real, args));
                    });
            try (TestTransaction test = TestTransaction.begin("no savepoints")) {
                SQLException e = assertThrows(SQLException.class, () -> new TxGuardDataSource(withoutSavepoints).getConnection());
                assertEquals("25000", e.getSQLState());
                assertTrue(e.getMessage().contains("whose driver says it has no savepoints"), e.getMessage());
            }
        }
    }

    /**
     * Druid and Agroal, under txguard as docs/semantics.md tells (TxGuardDataSource over the pool): a test's handles
     * start in the pool's mode, the pool of one is asked for one connection, and gets it back, as it handed it out.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.StatefulPoolsTest#everyPoolAndDatabase")
    void txguardOverAStatefulPool_handlesStartInThePoolsMode_andItsConnectionGoesBack(Database database,
                                                                                    StatefulPoolsTest.Kind kind) throws Exception {
        Assumptions.assumeFalse(dev.txguard.internal.EngineProbe.agentGuardsConnections(), "under the agent the pool's"
                + " handles are guarded by the agent above the pool, and not pinned");
        for (boolean autoCommit : new boolean[] {true, false}) {
            try (TestDb db = TestDb.open(database); StatefulPoolsTest.Pool pool = new StatefulPoolsTest.Pool(kind, db.rawUrl, autoCommit)) {
                TxGuardDataSource guarded = new TxGuardDataSource(pool.dataSource);
                try (TestTransaction test = TestTransaction.begin(kind + " pool")) {
                    try (Connection a = guarded.getConnection(); Connection b = guarded.getConnection()) {
                        assertEquals(autoCommit, a.getAutoCommit(), "the pool's mode, as in production");
                        new Legacy.Dao(db.table).saveClassic(a, 1);
                        if (!autoCommit) a.commit();
                        assertEquals(ids(1), seenBy(b, db));
                        if (!autoCommit) b.rollback();
                    }
                }
                try (Connection c = pool.dataSource.getConnection()) {
                    assertEquals(autoCommit, c.getAutoCommit(), "given back in the mode it was handed out in");
                }
                db.assertCommitted();
            }
        }
    }

    /** Declared durable in the test below: must be the outermost transaction. */
    static final class Payments {
        static void sendToBank(Connection c, TestDb db, int id) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, id);
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void durable_runsDirectlyUnderTheTest_andFailsInsideAScopeTheTestOpened(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.durable", "dev.txguard.it.TestTransactionTest$Payments#sendToBank")) {
            try (TestTransaction test = TestTransaction.begin("durable")) {
                Connection c = db.guarded();
                Payments.sendToBank(c, db, 1);
                c.setAutoCommit(false);
                SQLException e = assertThrows(SQLException.class, () -> Payments.sendToBank(c, db, 2));
                assertEquals("25001", e.getSQLState(), e.getMessage());
                c.rollback();
                c.setAutoCommit(true);
                assertEquals(ids(1), seenBy(c, db));
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aScopeLeftOpen_isRolledBackAndNamedWhereItBegan(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            TestTransaction test = TestTransaction.begin("leaks");
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            SQLException e = assertThrows(SQLException.class, test::close);
            assertEquals("25000", e.getSQLState());
            assertTrue(e.getMessage().contains("leaks ended with 1 transaction scope(s) open"), e.getMessage());
            assertTrue(e.getMessage().contains("aScopeLeftOpen_isRolledBackAndNamedWhereItBegan"), e.getMessage());
            db.assertCommitted();
            try (TestTransaction next = TestTransaction.begin("next")) {
                Connection d = db.guarded();
                assertEquals(ids(), seenBy(d, db), "the next test starts clean");
                assertTrue(d.getAutoCommit());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aConnectionKeptFromAnEndedTest_failsOnUse_andWorksInTheNext(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection kept;
            try (TestTransaction test = TestTransaction.begin("first")) {
                kept = db.guarded();
                db.insert(kept, 1);
            }
            SQLException e = assertThrows(SQLException.class, () -> db.insert(kept, 2));
            assertEquals("25000", e.getSQLState());
            assertTrue(e.getMessage().contains("has ended"), e.getMessage());
            try (TestTransaction test = TestTransaction.begin("second")) {
                db.insert(kept, 3); // a pool shared by test classes keeps its connections
                assertEquals(ids(3), seenBy(kept, db));
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void threadsUsingTheConnectionAtOnce_takeTurns(Database database) throws Exception {
        int threads = 4;
        int rowsEach = 40;
        try (TestDb db = TestDb.open(database)) {
            java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newFixedThreadPool(threads);
            try (TestTransaction test = TestTransaction.begin("threads at once")) {
                List<java.util.concurrent.Future<Object>> done = new ArrayList<>();
                java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
                for (int t = 0; t < threads; t++) {
                    int first = t * rowsEach;
                    done.add(executor.submit(() -> {
                        start.await();
                        try (Connection c = db.guarded()) {
                            for (int id = first; id < first + rowsEach; id++) {
                                if (id % 2 == 0) db.insert(c, id); else new Legacy.Dao(db.table).saveClassic(c, id);
                            }
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (java.util.concurrent.Future<Object> f : done) f.get();
                try (Connection c = db.guarded()) {
                    assertEquals(threads * rowsEach, seenBy(c, db).size());
                }
            } finally {
                executor.shutdown();
            }
            db.assertCommitted();
        }
    }

    /** A nested scope's first statement sets its savepoint first: the statement still runs as the thread's one call. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "H2")
    void aNestedScopesSavepoint_isPartOfTheStatementsCall_notACallOfItsOwn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.sql(db.rawObserver(), "CREATE ALIAS IF NOT EXISTS TXG_WHO FOR \"" + H2Signals.class.getName()
                    + ".whoUsesTheConnection\"");
            try (TestTransaction test = TestTransaction.begin("nested on one thread")) {
                Connection c = db.guarded();
                H2Signals.watched = c;
                c.setAutoCommit(false);
                db.insert(c, 1);
                nestedCall(c);
                assertEquals(Thread.currentThread(), H2Signals.usingDuringTheStatement, "the statement ran as this thread's call");
                c.rollback();
                c.setAutoCommit(true);
            } finally {
                H2Signals.watched = null;
            }
        }
    }

    /** A DAO's own scope, nested in the caller's: its first statement sets the scope's savepoint. */
    private static void nestedCall(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT TXG_WHO()")) {
            rs.next();
        }
        c.commit();
        c.setAutoCommit(true);
    }

    /**
     * A thread in the middle of a statement that waits for a row another transaction holds keeps the test's connection;
     * a second thread gives up after the test's bound, naming the first and where it is, instead of hanging the suite.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void aThreadWaitingPastTheBound_failsNamingTheThreadThatHoldsTheConnection(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            db.insert(db.rawObserver(), 1); // committed: the row the other transaction locks
            Connection locker = db.raw();
            locker.setAutoCommit(false);
            Legacy.sql(locker, "UPDATE " + db.table + " SET note = 'locked' WHERE id = 1");
            Thread holder = null;
            try (TestTransaction test = TestTransaction.begin("bound").waitForTheConnection(java.time.Duration.ofMillis(300))) {
                Connection blocked = db.guarded();
                Connection waiting = db.guarded();
                // Made here, so that the holder's one call on the connection is the update that waits for the row
                Statement updating = blocked.createStatement();
                java.util.concurrent.CompletableFuture<Void> update = new java.util.concurrent.CompletableFuture<>();
                holder = new Thread(() -> {
                    try {
                        updating.execute("UPDATE " + db.table + " SET note = 'mine' WHERE id = 1");
                        update.complete(null);
                    } catch (SQLException | RuntimeException e) {
                        update.completeExceptionally(e);
                    }
                }, "holder-of-the-connection");
                holder.start();
                while (dev.txguard.internal.EngineProbe.usingTheTestConnection(blocked) != holder) Thread.onSpinWait();
                SQLException e = assertThrows(SQLException.class, () -> seenBy(waiting, db));
                assertEquals("25000", e.getSQLState());
                assertTrue(e.getMessage().contains("waited 300 ms for the test transaction's connection, which thread"
                        + " holder-of-the-connection has been using all along"), e.getMessage());
                assertTrue(e.getMessage().contains("holder-of-the-connection is at:\n\tat "), e.getMessage());
                locker.rollback(); // the row is free: the holder's update goes on, and so can the other thread
                update.get();
                assertEquals(ids(1), seenBy(waiting, db));
            } finally {
                locker.rollback();
                if (holder != null) holder.join();
            }
            db.assertCommitted(1);
        }
    }

    /**
     * A test that ends while a thread it started is still in the middle of a statement (waiting for a row another
     * transaction holds): its end waits the bound, then aborts the connection and fails naming the thread, instead of
     * rolling back under the call in flight; the next test gets a connection of its own. (The servers only: on H2
     * the next test's insert timed out on a lock that the aborted embedded session still held.)
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"POSTGRESQL", "MARIADB"})
    void aTestEndingUnderAnotherThreadsCall_abortsItsConnectionAndFailsNamingTheThread(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            db.insert(db.rawObserver(), 1);
            Connection locker = db.raw();
            locker.setAutoCommit(false);
            Legacy.sql(locker, "UPDATE " + db.table + " SET note = 'locked' WHERE id = 1");
            Thread holder = null;
            try {
                TestTransaction test = TestTransaction.begin("ends under a call")
                        .waitForTheConnection(java.time.Duration.ofMillis(300));
                Connection blocked = db.guarded();
                Statement updating = blocked.createStatement();
                holder = new Thread(() -> {
                    try {
                        updating.execute("UPDATE " + db.table + " SET note = 'mine' WHERE id = 1");
                    } catch (SQLException expected) {
                        // its connection is aborted under it
                    }
                }, "still-updating");
                holder.start();
                while (dev.txguard.internal.EngineProbe.usingTheTestConnection(blocked) != holder) Thread.onSpinWait();
                SQLException e = assertThrows(SQLException.class, test::close);
                assertEquals("25000", e.getSQLState());
                assertTrue(e.getMessage().contains("ended while thread still-updating was still in the middle of a call"),
                        e.getMessage());
            } finally {
                locker.rollback();
                if (holder != null) holder.join();
            }
            try (TestTransaction next = TestTransaction.begin("next")) {
                Connection c = db.guarded();
                db.insert(c, 2);
                assertEquals(ids(1, 2), seenBy(c, db), "a connection of its own, in a transaction of its own");
            }
            db.assertCommitted(1);
            // The server may keep the aborted session, and its locks on the table, a while (pgjdbc 42.7 cannot abort on
            // JDK 24 and later, and the connection is closed only as the call ends): ended here, so that dropping the
            // table does not wait for it.
            String ofTheAbortedSession = database == Database.POSTGRESQL
                    ? "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_class t ON l.relation = t.oid"
                            + " WHERE t.relname = '" + db.table + "' AND l.pid <> pg_backend_pid()"
                    : "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE"
                            + " '%SET note = ''mine''%'";
            try (Statement s = db.rawObserver().createStatement(); ResultSet rs = s.executeQuery(ofTheAbortedSession)) {
                List<Long> sessions = new ArrayList<>();
                while (rs.next()) {
                    if (database == Database.MARIADB) sessions.add(rs.getLong(1)); // PostgreSQL's query ended them
                }
                for (long session : sessions) Legacy.sql(db.rawObserver(), "KILL " + session);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void refusingOtherThreads_aConnectionUsedOnAnotherThreadIsRefused(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("one thread").refuseOtherThreads()) {
                Connection c = db.guarded();
                db.insert(c, 1);
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> java.util.concurrent.CompletableFuture.runAsync(() -> {
                            try {
                                db.insert(c, 2);
                            } catch (SQLException failed) {
                                throw new java.util.concurrent.CompletionException(failed);
                            }
                        }).get());
                assertTrue(e.getCause().getMessage().contains("which refuses other threads than its own"),
                        e.getCause().getMessage());
                assertEquals(ids(1), seenBy(c, db));
            }
            db.assertCommitted();
        }
    }

    /**
     * The limit of one connection for all: two transactions open at once on two handles are one transaction, and
     * rolling back the one that began first undoes what the other did since. Said, not hidden; the other handle's
     * own rollback still undoes only what it does from then on.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void interleavedTransactionsOnTwoHandles_theFirstOnesRollbackUndoesTheOthersWork_andSaysSo(Database database)
            throws Exception {
        dev.txguard.internal.EngineProbe.forgetWhatWasSaidOnce(); // said once per pair of call sites, in any test
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            try (TestTransaction test = TestTransaction.begin("interleaved")) {
                Connection a = db.guarded();
                Connection b = db.guarded();
                a.setAutoCommit(false);
                db.insert(a, 1);
                b.setAutoCommit(false);
                db.insert(b, 2);
                a.rollback();
                assertEquals(ids(), seenBy(b, db));
                assertEquals(1, log.count("a rollback on the connection whose transaction began at"), log.all());
                db.insert(b, 3);
                b.rollback();
                db.insert(a, 4);
                a.commit();
                assertEquals(ids(4), seenBy(b, db));
                a.setAutoCommit(true);
                b.setAutoCommit(true);
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aConnectionOpenedBeforeTheTest_isRefusedInsideIt_insteadOfCommittingForReal(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection before = db.guarded();
            try (TestTransaction test = TestTransaction.begin("opened before")) {
                SQLException e = assertThrows(SQLException.class, () -> new Legacy.Dao(db.table).saveClassic(before, 1));
                assertEquals("25000", e.getSQLState());
                assertTrue(e.getMessage().contains("opened outside the test transaction of opened before"), e.getMessage());
            }
            db.insert(before, 2); // after the test, it is the application's connection as before
            db.assertCommitted(2);
        }
    }

    /** What a second connection commits inside another's transaction (Spring's REQUIRES_NEW) goes with its rollback. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aCommitOnAnotherHandleInsideATransaction_goesWithItsRollback_andSaysSo(Database database) throws Exception {
        dev.txguard.internal.EngineProbe.forgetWhatWasSaidOnce(); // said once per pair of call sites, in any test
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            try (TestTransaction test = TestTransaction.begin("requires new")) {
                Connection outer = db.guarded();
                outer.setAutoCommit(false);
                db.insert(outer, 1);
                try (Connection inner = db.guarded()) {
                    new Legacy.Dao(db.table).saveClassic(inner, 2); // its own transaction, committed
                }
                outer.rollback();
                outer.setAutoCommit(true);
                assertEquals(ids(), seenBy(outer, db), "one connection: the outer rollback undid the inner commit too");
                assertEquals(1, log.count("also undid what the connection whose transaction began at"), log.all());
            }
            db.assertCommitted();
        }
    }

    /**
     * A framework's transaction around each test (Spring's test-managed one), begun before the test's level: the
     * test's end rolls back what the test did, and that transaction goes on; it is not the test's leak.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aScopeOpenedBeforeTheTestsLevel_goesOnAfterIt_andIsNotItsLeak(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction classLevel = TestTransaction.begin("class")) {
                Connection c = db.guarded();
                c.setAutoCommit(false); // the framework's transaction, around the test
                db.insert(c, 1);
                try (TestTransaction test = classLevel.nested("test")) {
                    new Legacy.Dao(db.table).saveClassic(c, 2);
                    assertEquals(ids(1, 2), seenBy(c, db));
                }
                assertEquals(ids(1), seenBy(c, db), "the test's work is gone, the framework's transaction goes on");
                c.rollback();
                c.setAutoCommit(true);
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "MARIADB"})
    void ddlThatWouldCommitTheTestTransaction_isRefused(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("creates a table")) {
                Connection c = db.guarded();
                db.insert(c, 1);
                SQLException e = assertThrows(SQLException.class,
                        () -> Legacy.sql(c, "CREATE TABLE " + db.table + "_x (id INT)"));
                assertEquals("25007", e.getSQLState());
                assertTrue(e.getMessage().contains("test transaction of creates a table"), e.getMessage());
                assertEquals(ids(1), seenBy(c, db));
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aFailedStatementInAutocommitMode_undoesOnlyItself(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("duplicate key")) {
                Connection c = db.guarded();
                db.insert(c, 1);
                assertThrows(SQLException.class, () -> db.insert(c, 1));
                db.insert(c, 2); // on PostgreSQL, without a savepoint per statement the transaction would be aborted
                assertEquals(ids(1, 2), seenBy(c, db));
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void sqlTransactionControl_isPlayedInsideTheTestTransaction(Database database) throws Exception {
        Assumptions.assumeTrue(database != Database.DERBY, "Derby has no SQL BEGIN");
        String begin = database == Database.MARIADB ? "START TRANSACTION" : "BEGIN";
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction test = TestTransaction.begin("sql control")) {
                Connection c = db.guarded();
                try (Statement s = c.createStatement()) { // in this method, which owns the transactions it begins
                    s.execute(begin);
                    s.execute("INSERT INTO " + db.table + " VALUES (1, 'x')");
                    s.execute("COMMIT");
                    s.execute(begin);
                    s.execute("INSERT INTO " + db.table + " VALUES (2, 'x')");
                    s.execute("ROLLBACK");
                    assertEquals(ids(1), seenBy(c, db));
                    s.execute("COMMIT"); // nothing open: as in production, a no-op, not the test's commit
                }
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void onCommitCallbacks_runWhenTheApplicationsOutermostScopeCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            List<String> sent = new ArrayList<>();
            try (TestTransaction test = TestTransaction.begin("callbacks")) {
                Connection c = db.guarded();
                c.setAutoCommit(false);
                db.insert(c, 1);
                TxGuard.onCommit(c, () -> sent.add("mail 1"));
                c.commit();
                db.insert(c, 2);
                TxGuard.onCommit(c, () -> sent.add("mail 2"));
                c.rollback();
                c.setAutoCommit(true);
            }
            assertEquals(List.of("mail 1"), sent);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aLevelThatCommitsForReal_opensConnectionsOfItsOwn_andRefusesTheOuterOnes(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            try (TestTransaction classLevel = TestTransaction.begin("class")) {
                Connection classConnection = db.guarded(); // unused until after the level: no snapshot, no lock held
                try (TestTransaction real = classLevel.commitsForReal("real commits")) {
                    try (Connection own = db.guarded()) {
                        db.insert(own, 2);
                    }
                    SQLException e = assertThrows(SQLException.class, () -> db.insert(classConnection, 3));
                    assertTrue(e.getMessage().contains("real commits commits for real"), e.getMessage());
                    db.assertCommitted(2);
                }
                db.insert(classConnection, 1);
                assertTrue(seenBy(classConnection, db).contains(1), "the class transaction goes on after the level");
            }
            db.assertCommitted(2); // what the real-commit test wrote is its to clean up
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = "POSTGRESQL")
    void aDeferredConstraintThatWouldFailTheCommit_failsTheTest(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            String child = db.table + "_child";
            Legacy.sql(db.rawObserver(), "CREATE TABLE " + child + " (id INT PRIMARY KEY, parent INT REFERENCES "
                    + db.table + "(id) DEFERRABLE INITIALLY DEFERRED)");
            try {
                TestTransaction test = TestTransaction.begin("orphan");
                Connection c = db.guarded();
                Legacy.sql(c, "INSERT INTO " + child + " VALUES (1, 99)"); // no parent 99: fine until the commit
                SQLException e = assertThrows(SQLException.class, test::end);
                assertEquals("23503", e.getSQLState());
                assertTrue(e.getMessage().contains("deferred constraint does not hold at the end of orphan"), e.getMessage());
                try (TestTransaction next = TestTransaction.begin("next")) {
                    Legacy.sql(db.guarded(), "INSERT INTO " + child + " VALUES (2, NULL)");
                }
            } finally {
                Legacy.sql(db.rawObserver(), "DROP TABLE " + child);
            }
        }
    }

    /** A test's work on its own thread, and on a thread it starts: both belong to it. */
    private static java.util.concurrent.Callable<Set<Integer>> aTest(TestDb db, String name, int id,
                                                                     java.util.concurrent.CyclicBarrier bothOpen) {
        return () -> {
            try (TestTransaction test = TestTransaction.begin(name)) {
                Connection c = db.guarded();
                new Legacy.Dao(db.table).saveClassic(c, id);
                java.util.concurrent.CompletableFuture<Void> started = new java.util.concurrent.CompletableFuture<>();
                Thread child = new Thread(() -> { // started by the test: works for it
                    try (Connection d = db.guarded()) {
                        new Legacy.Dao(db.table).saveClassic(d, id + 1);
                        started.complete(null);
                    } catch (SQLException | RuntimeException e) {
                        started.completeExceptionally(e);
                    }
                });
                child.start();
                started.get();
                bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS); // the other test's transaction is open, with its rows in it
                Set<Integer> seen = seenBy(c, db);
                bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS); // neither ends before both have looked
                return seen;
            }
        };
    }

    /** Not on Derby, whose reads wait for the rows another transaction wrote, as two connections' would in production. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void testsRunningAtTheSameTime_eachHaveTheirOwnConnectionAndTransaction(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            java.util.concurrent.ExecutorService tests = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.CyclicBarrier bothOpen = new java.util.concurrent.CyclicBarrier(2);
                java.util.concurrent.Future<Set<Integer>> first = tests.submit(aTest(db, "first", 10, bothOpen));
                java.util.concurrent.Future<Set<Integer>> second = tests.submit(aTest(db, "second", 20, bothOpen));
                assertEquals(ids(10, 11), first.get(), "each test sees its own work, not the other's");
                assertEquals(ids(20, 21), second.get());
            } finally {
                tests.shutdown();
            }
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void withTestsRunningAtTheSameTime_aThreadNoTestStarted_isAnErrorNotAGuess(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            java.util.concurrent.ExecutorService shared = java.util.concurrent.Executors.newSingleThreadExecutor();
            shared.submit(() -> null).get(); // its thread exists before the tests, and works for none of them
            java.util.concurrent.ExecutorService tests = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.CyclicBarrier bothOpen = new java.util.concurrent.CyclicBarrier(3);
                java.util.concurrent.atomic.AtomicInteger ids = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.Callable<Connection> aTest = () -> {
                    try (TestTransaction test = TestTransaction.begin(Thread.currentThread().getName())) {
                        Connection c = db.guarded();
                        db.insert(c, ids.incrementAndGet()); // keys of their own: neither waits for the other's row
                        bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS);
                        bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS);
                        return c;
                    }
                };
                java.util.concurrent.Future<Connection> first = tests.submit(aTest);
                java.util.concurrent.Future<Connection> second = tests.submit(aTest);
                bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS);
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> shared.submit(() -> db.guarded()).get());
                assertTrue(e.getCause().getMessage().contains("2 test transactions are open")
                        && e.getCause().getMessage().contains("it works for none of them"), e.getCause().getMessage());
                bothOpen.await(30, java.util.concurrent.TimeUnit.SECONDS);
                first.get();
                second.get();
            } finally {
                tests.shutdown();
                shared.shutdown();
            }
            db.assertCommitted();
        }
    }

    @Test
    void anEndedTestTransactionCannotEndAgain_norTakeALevelInside() throws Exception {
        TestTransaction first = TestTransaction.begin("first");
        first.close();
        IllegalStateException ended = assertThrows(IllegalStateException.class, first::end);
        assertTrue(ended.getMessage().contains("first has ended"), ended.getMessage());
        SQLException inside = assertThrows(SQLException.class, () -> first.nested("inside"));
        assertTrue(inside.getMessage().contains("first has ended"), inside.getMessage());
    }
}
