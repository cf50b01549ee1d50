package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.TxGuard;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * On-commit callbacks (TxGuard.onCommit): a side effect registered inside a transaction happens after its real
 * commit, never for work that is undone. Legacy code as the rest of the suite has it: a DAO that begins and commits
 * on its own, called from a service that does the same; what was committed is read from another connection.
 */
class OnCommitTest {

    /** The side effects, in the order they happened. */
    private final List<String> sent = new CopyOnWriteArrayList<>();

    /** A DAO that saves an order and mails its confirmation, in a transaction of its own. */
    static final class OrderDao {
        static void save(Connection c, TestDb db, int id, List<String> sent, boolean fails) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, id);
                TxGuard.onCommit(c, () -> sent.add("mail " + id));
                if (fails) throw new IllegalStateException("stock ran out");
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Commits a first row, then rolls back a second, in one scope of its own (autocommit off all along). */
    static final class TwoStepDao {
        static void keepFirstUndoSecond(Connection c, TestDb db, List<String> sent) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, 10);
                TxGuard.onCommit(c, () -> sent.add("first step"));
                c.commit();
                db.insert(c, 11);
                TxGuard.onCommit(c, () -> sent.add("second step"));
                c.rollback();
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** The service around it: begins, calls the DAO, commits. */
        static void around(Connection c, TestDb db, List<String> sent) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, 1);
                keepFirstUndoSecond(c, db, sent);
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** A DAO that leaves its scope open when a statement fails: the error escapes it. */
    static final class CarelessDao {
        static void save(Connection c, TestDb db, int id, List<String> sent) throws SQLException {
            c.setAutoCommit(false);
            TxGuard.onCommit(c, () -> sent.add("careless " + id));
            db.insert(c, id);
            c.commit();
            c.setAutoCommit(true);
        }

        /** Swallows a failed insert, then commits the rest of its work, as legacy code does. */
        static void saveSwallowingAFailure(Connection c, TestDb db, List<String> sent) throws SQLException {
            c.setAutoCommit(false);
            try {
                TxGuard.onCommit(c, () -> sent.add("swallowed"));
                try {
                    db.insert(c, 1);
                } catch (SQLException duplicate) {
                    // swallowed
                }
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** Rolls back a transaction it did not begin. */
        static void undoEverything(Connection c) throws SQLException {
            c.rollback();
        }

        /** Its insert fails as a serialization failure would (see QuietUnderLoadTest.conflictOnSecretNotes). */
        static void saveConflicting(Connection c, TestDb db, List<String> sent) throws SQLException {
            c.setAutoCommit(false);
            try {
                TxGuard.onCommit(c, () -> sent.add("conflicting"));
                QuietUnderLoadTest.insertNote(c, db, 100, "conflict");
                c.commit();
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** A service whose transaction encloses the DAO's; it carries on when the DAO fails. */
    static final class Checkout {
        static void place(Connection c, TestDb db, List<String> sent, List<String> sentBeforeCommit, boolean daoFails,
                          boolean fails) throws SQLException {
            c.setAutoCommit(false);
            try {
                db.insert(c, 1);
                TxGuard.onCommit(c, () -> sent.add("receipt, rows " + committed(db)));
                try {
                    OrderDao.save(c, db, 2, sent, daoFails);
                } catch (IllegalStateException handled) {
                    sent.add("order declined");
                }
                sentBeforeCommit.addAll(sent);
                if (fails) throw new IllegalStateException("payment declined");
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private static String committed(TestDb db) {
        try {
            return db.committed().toString();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void noTransactionOpen_runsAtOnce(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            TxGuard.onCommit(c, () -> sent.add("now"));
            assertEquals(List.of("now"), sent);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void theOutermostCommit_runsThemInOrder_afterItAndSeeingWhatItCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            List<String> before = new ArrayList<>();
            Checkout.place(db.guarded(), db, sent, before, false, false);
            assertEquals(List.of(), before, "the DAO's commit is a savepoint's release: nothing is sent yet");
            assertEquals(List.of("receipt, rows [1, 2]", "mail 2"), sent);
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aNestedScopeRolledBack_dropsItsCallbacks_andTheEnclosingOnesStillRun(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            List<String> before = new ArrayList<>();
            Checkout.place(db.guarded(), db, sent, before, true, false);
            assertEquals(List.of("order declined"), before);
            assertEquals(List.of("order declined", "receipt, rows [1]"), sent, "the declined order is never mailed");
            db.assertCommitted(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aNestedScopeThatCommitsThenRollsBack_keepsWhatItCommitted_andDropsTheRest(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            TwoStepDao.around(db.guarded(), db, sent);
            assertEquals(List.of("first step"), sent);
            db.assertCommitted(1, 10);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aScopeLeftByAnError_dropsItsCallbacks(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            TxGuard.onCommit(c, () -> sent.add("service"));
            assertThrows(SQLException.class, () -> CarelessDao.save(c, db, 1, sent)); // a duplicate key
            c.commit(); // the DAO's scope, left by the error, is rolled back to its savepoint
            c.setAutoCommit(true);
            assertEquals(List.of("service"), sent);
            db.assertCommitted(1);
        }
    }

    /**
     * A nested scope commits after a failure it swallowed. Elsewhere its work, and its callback, join the enclosing
     * scope, as in plain JDBC; on PostgreSQL the failure aborted the transaction, the scope is rolled back to its
     * savepoint (the only way to go on), and its callback goes with it.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aScopeWhoseFailureAbortedTheTransaction_dropsItsCallbacks(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            TxGuard.onCommit(c, () -> sent.add("service"));
            CarelessDao.saveSwallowingAFailure(c, db, sent);
            c.commit();
            c.setAutoCommit(true);
            assertEquals(database == Database.POSTGRESQL ? List.of("service") : List.of("service", "swallowed"), sent);
            db.assertCommitted(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aStrayRollback_dropsThem(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            TxGuard.onCommit(c, () -> sent.add("service"));
            CarelessDao.undoEverything(c);
            assertThrows(SQLException.class, c::commit); // rollback-only until its owner ends it
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(List.of(), sent);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"H2", "POSTGRESQL", "MARIADB"})
    void theDatabaseEndingTheTransaction_dropsThem_andTheNextTransactionsStillRun(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            QuietUnderLoadTest.conflictOnSecretNotes(db);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            TxGuard.onCommit(c, () -> sent.add("service"));
            SQLException conflict = assertThrows(SQLException.class, () -> CarelessDao.saveConflicting(c, db, sent));
            assertTrue(conflict.getSQLState().startsWith("40"), conflict.toString());
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(List.of(), sent);
            c.setAutoCommit(false); // the retry
            db.insert(c, 2);
            TxGuard.onCommit(c, () -> sent.add("retried"));
            c.commit();
            c.setAutoCommit(true);
            assertEquals(List.of("retried"), sent);
            db.assertCommitted(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void theOutermostRollback_dropsThemAll(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            assertThrows(IllegalStateException.class,
                    () -> Checkout.place(db.guarded(), db, sent, new ArrayList<>(), false, true));
            assertEquals(List.of(), sent);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void autocommitRestored_commitsAndRunsThem(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 7);
            TxGuard.onCommit(c, () -> sent.add("after restore, rows " + committed(db)));
            assertEquals(List.of(), sent);
            c.setAutoCommit(true); // commits, as JDBC specifies
            assertEquals(List.of("after restore, rows [7]"), sent);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aCallbackThatRegistersAnother_bothRunInTheSameRound(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            TxGuard.onCommit(c, () -> {
                sent.add("first");
                try {
                    TxGuard.onCommit(c, () -> sent.add("registered by the first"));
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            TxGuard.onCommit(c, () -> sent.add("second"));
            c.commit();
            assertEquals(List.of("first", "second", "registered by the first"), sent);
            c.setAutoCommit(true);
            assertEquals(3, sent.size(), "nothing runs twice");
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aCallbackThatThrows_theCommitStands_theOthersRun_andTheFailureIsLogged(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start()) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 3);
            TxGuard.onCommit(c, () -> {
                throw new IllegalStateException("the mail server is down");
            });
            TxGuard.onCommit(c, () -> sent.add("still sent"));
            c.commit(); // does not throw
            c.setAutoCommit(true);
            db.assertCommitted(3);
            assertEquals(List.of("still sent"), sent);
            assertEquals(1, log.count("an on-commit callback"), log.all());
            assertTrue(log.records.stream().anyMatch(r -> r.getLevel() == Level.SEVERE && r.getThrown() != null
                    && "the mail server is down".equals(r.getThrown().getMessage())), log.all());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aConnectionClosedWithItsTransactionOpen_dropsThem(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 4);
            TxGuard.onCommit(c, () -> sent.add("never"));
            c.close();
            assertEquals(List.of(), sent);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void throughAPoolsHandle_andDroppedWhenTheHandleGoesBackWithItsTransactionOpen(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true)) {
            try (Connection c = pool.getConnection()) {
                List<String> before = new ArrayList<>();
                Checkout.place(c, db, sent, before, false, false);
            }
            assertEquals(List.of("receipt, rows [1, 2]", "mail 2"), sent);
            try (Connection c = pool.getConnection()) {
                c.setAutoCommit(false);
                db.insert(c, 5);
                TxGuard.onCommit(c, () -> sent.add("never"));
            } // back to the pool, which rolls it back
            assertEquals(2, sent.size(), sent.toString());
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aPoolInManualMode_theHandleIsInATransactionFromTheStart(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(false)) {
            try (Connection c = pool.getConnection()) {
                TxGuard.onCommit(c, () -> sent.add("after the commit, rows " + committed(db)));
                assertEquals(List.of(), sent, "manual mode: the next commit is the one it waits for");
                db.insert(c, 8);
                OrderDao.save(c, db, 9, sent, false); // nests in the work in progress: its commit is a release
                assertEquals(List.of(), sent);
                c.commit();
                assertEquals(List.of("after the commit, rows [8, 9]", "mail 9"), sent);
            }
            try (Connection c = pool.getConnection()) {
                TxGuard.onCommit(c, () -> sent.add("never"));
                db.insert(c, 10);
            } // back to the pool, which rolls it back
            assertEquals(2, sent.size(), sent.toString());
            db.assertCommitted(8, 9);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aConnectionTxguardDoesNotGuard_isRefusedWithAClearError(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection raw = db.raw();
            SQLException e = assertThrows(SQLException.class, () -> TxGuard.onCommit(raw, () -> sent.add("lost")));
            assertEquals("25000", e.getSQLState());
            assertTrue(e.getMessage().contains("onCommit needs a connection txguard guards"), e.getMessage());
            Connection closed = db.guarded();
            closed.close();
            e = assertThrows(SQLException.class, () -> TxGuard.onCommit(closed, () -> sent.add("lost")));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            IllegalArgumentException noCallback = assertThrows(IllegalArgumentException.class,
                    () -> TxGuard.onCommit(db.guarded(), null));
            assertTrue(noCallback.getMessage().contains("the callback is null"), noCallback.getMessage());
            assertEquals(List.of(), sent);
        }
    }
}
