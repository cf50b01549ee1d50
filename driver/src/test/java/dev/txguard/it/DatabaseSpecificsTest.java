package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What differs between databases, pinned down on each. */
class DatabaseSpecificsTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void errorInNestedScope_daoRollsBack_connectionUsableAgain(Database database) throws Exception {
        // PostgreSQL aborts the whole transaction on any error; rolling back to the scope's savepoint revives it.
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            dao.saveClassic(c, 2);
            SQLException duplicate = assertThrows(SQLException.class, () -> dao.saveClassic(c, 2));
            if (database == Database.SQLITE) {
                assertEquals(19, duplicate.getErrorCode(), duplicate.getMessage()); // SQLITE_CONSTRAINT; no SQLState
            } else {
                assertTrue(duplicate.getSQLState().startsWith("23"), duplicate.getSQLState());
            }
            db.insert(c, 3); // works: the failed scope was rolled back to its savepoint by its owner
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void errorEscapesANestedScope_itsWorkIsUndoneOnEveryDatabase(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            assertThrows(SQLException.class, () -> beginInsertTwiceAndFail(c, db)); // never ends its scope
            db.insert(c, 3); // the caller caught it and carries on
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 3);
        }
    }

    private static void beginInsertTwiceAndFail(Connection c, TestDb db) throws SQLException {
        c.setAutoCommit(false);
        db.insert(c, 2);
        db.insert(c, 2);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void sqlBeginAtTopLevel_flipsAutocommitUntilCommit(Database database) throws Exception {
        // H2's own BEGIN flips the driver's autocommit flag; through txguard every database behaves alike.
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            Legacy.sql(c, "BEGIN");
            assertFalse(c.getAutoCommit());
            db.insert(c, 1);
            db.assertCommitted();
            Legacy.sql(c, "COMMIT");
            assertTrue(c.getAutoCommit());
            db.assertCommitted(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void outermostBeginWithCharacteristics_keepsThem(Database database) throws Exception {
        // Legacy.sql sends BEGIN and ROLLBACK on the test's behalf: a statement helper, declared as such.
        try (TestDb db = TestDb.open(database, "txguard.helpers", "dev.txguard.it.Legacy")) {
            Connection c = db.guarded();
            switch (database) {
                case POSTGRESQL:
                    Legacy.sql(c, "BEGIN ISOLATION LEVEL SERIALIZABLE");
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW transaction_isolation")) {
                        rs.next();
                        assertEquals("serializable", rs.getString(1));
                    }
                    Legacy.sql(c, "COMMIT");
                    break;
                case MARIADB:
                    Legacy.sql(c, "START TRANSACTION READ ONLY");
                    SQLException readOnly = assertThrows(SQLException.class, () -> db.insert(c, 1));
                    assertEquals("25006", readOnly.getSQLState(), readOnly.getMessage());
                    Legacy.sql(c, "ROLLBACK");
                    break;
                case SQLITE:
                    // SQLite's driver has already begun a deferred transaction of its own when autocommit goes
                    // off; BEGIN IMMEDIATE takes the write lock at once, so another writer is refused at once.
                    Legacy.sql(c, "BEGIN IMMEDIATE");
                    try (Connection other = DriverManager.getConnection(db.rawUrl + "&busy_timeout=0")) {
                        SQLException busy = assertThrows(SQLException.class, () -> db.insert(other, 3));
                        assertEquals(SQLITE_BUSY, busy.getErrorCode(), busy.getMessage());
                    }
                    db.insert(c, 1);
                    Legacy.sql(c, "ROLLBACK");
                    // Refused while another connection writes: no transaction, and the connection works on.
                    try (Connection other = DriverManager.getConnection(db.rawUrl + "&busy_timeout=0");
                         Connection refused = DriverManager.getConnection(Database.guarded(db.rawUrl + "&busy_timeout=0"))) {
                        Legacy.sql(other, "BEGIN IMMEDIATE");
                        SQLException busy = assertThrows(SQLException.class, () -> Legacy.sql(refused, "BEGIN IMMEDIATE"));
                        assertEquals(SQLITE_BUSY, busy.getErrorCode(), busy.getMessage());
                        assertTrue(refused.getAutoCommit());
                        Legacy.sql(other, "ROLLBACK");
                        db.insert(refused, 4);
                    }
                    db.assertCommitted(4);
                    Legacy.sql(db.rawObserver(), "DELETE FROM " + db.table);
                    break;
                default:
                    // H2's and Derby's BEGIN take no characteristics: rejected with or without txguard.
                    SQLException raw = assertThrows(SQLException.class,
                            () -> Legacy.sql(db.raw(), "BEGIN ISOLATION LEVEL SERIALIZABLE"));
                    SQLException guarded = assertThrows(SQLException.class,
                            () -> Legacy.sql(c, "BEGIN ISOLATION LEVEL SERIALIZABLE"));
                    assertEquals(raw.getSQLState(), guarded.getSQLState());
            }
            assertTrue(c.getAutoCommit());
            db.insert(c, 2);
            db.assertCommitted(2);
        }
    }

    private static final int SQLITE_BUSY = 5;

    /**
     * CoreProtect's shape on SQLite: transactions in SQL text with JDBC autocommit on, and a COMMIT that the
     * database refuses while a reader holds the file (rollback journal) retried until it goes through. The
     * refused COMMIT leaves the transaction open, through txguard as without it.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "SQLITE")
    void commitRefusedWhileTheDatabaseIsBusy_isRetriedAsWithoutTxguard(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.sql(db.rawObserver(), "PRAGMA journal_mode=DELETE"); // readers then block a commit
            String url = db.rawUrl.replace("journal_mode=WAL", "busy_timeout=0");
            for (boolean guarded : new boolean[] {false, true}) {
                int first = guarded ? 10 : 1;
                try (Connection c = DriverManager.getConnection(guarded ? Database.guarded(url) : url);
                     Connection reader = DriverManager.getConnection(url)) {
                    Legacy.sql(c, "BEGIN TRANSACTION");
                    db.insert(c, first);
                    db.insert(c, first + 1);
                    reader.setAutoCommit(false);
                    try (Statement s = reader.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + db.table)) {
                        rs.next(); // the reader's lock is held until its transaction ends
                        SQLException busy = assertThrows(SQLException.class, () -> Legacy.sql(c, "COMMIT"));
                        assertEquals(SQLITE_BUSY, busy.getErrorCode(), busy.getMessage());
                    }
                    reader.rollback();
                    Legacy.sql(c, "COMMIT"); // the retry
                    assertTrue(c.getAutoCommit());
                    db.insert(c, first + 2); // autocommit again: committed at once
                }
            }
            db.assertCommitted(1, 2, 3, 10, 11, 12);
        }
    }

    /** The databases whose DDL runs inside the transaction; elsewhere it commits, and is refused in a nested scope. */
    private static final List<Database> TRANSACTIONAL_DDL = List.of(Database.POSTGRESQL, Database.SQLITE, Database.DERBY);

    @ParameterizedTest
    @EnumSource(Database.class)
    void ddlInANestedScope_refusedWhereItWouldCommitImplicitly(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            String extra = db.table + "_ddl";
            c.setAutoCommit(false);
            db.insert(c, 1);
            nestedDdl(c, extra, database);
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted(); // the outer work was not committed by anything
            if (TRANSACTIONAL_DDL.contains(database)) {
                assertTrue(tableExists(db, db.table), "the lookup finds a table that exists");
                assertFalse(tableExists(db, extra), "transactional DDL rolled back");
            } else {
                Legacy.sql(db.raw(), "DROP TABLE IF EXISTS " + extra);
            }
        }
    }

    private static void nestedDdl(Connection c, String table, Database database) throws SQLException {
        c.setAutoCommit(false);
        try {
            Legacy.sql(c, "CREATE TABLE " + table + " (id INT)");
            assertTrue(TRANSACTIONAL_DDL.contains(database), database + ": only " + TRANSACTIONAL_DDL
                    + " have transactional DDL");
        } catch (SQLException refused) {
            assertEquals("25007", refused.getSQLState(), refused.getMessage());
            assertTrue(refused.getMessage().contains("commit the transaction begun at"), refused.getMessage());
        } finally {
            c.setAutoCommit(true); // ends the nested scope only
        }
    }

    /**
     * Sequences: H2 leaves the transaction open across CREATE SEQUENCE and ALTER SEQUENCE (it was refused there
     * as DDL, though H2 runs it inside the transaction without txguard), PostgreSQL's DDL is transactional, and
     * MariaDB commits: refused there in a nested scope. (SQLite has no sequences, Derby no ALTER SEQUENCE; their
     * DDL is transactional, as ddlInANestedScope_refusedWhereItWouldCommitImplicitly shows.)
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void sequenceDdlInANestedScope_refusedOnlyWhereItCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            String sequence = db.table + "_seq";
            c.setAutoCommit(false);
            db.insert(c, 1);
            nestedSequenceDdl(c, db, sequence, database);
            db.assertCommitted(); // nothing committed the outer work
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted();
            Legacy.sql(db.raw(), "DROP SEQUENCE IF EXISTS " + sequence);
        }
    }

    private static void nestedSequenceDdl(Connection c, TestDb db, String sequence, Database database) throws SQLException {
        c.setAutoCommit(false);
        try {
            Legacy.sql(c, "CREATE SEQUENCE " + sequence);
            Legacy.sql(c, "ALTER SEQUENCE " + sequence + " RESTART WITH 100");
            db.insert(c, 2);
            assertTrue(database != Database.MARIADB, "MariaDB commits on sequence DDL: refused");
        } catch (SQLException refused) {
            assertEquals(Database.MARIADB, database, refused.getMessage());
            assertEquals("25007", refused.getSQLState(), refused.getMessage());
        } finally {
            c.setAutoCommit(true); // ends the nested scope only
        }
    }

    /**
     * A DAO that wants its own isolation level. H2 commits the open transaction when the level changes, so
     * inside a nested scope txguard refuses the change as it refuses DDL; PostgreSQL's driver refuses it
     * itself once the transaction has run a statement; MariaDB applies it to the next transaction, SQLite
     * switches a pragma. Derby commits when the level changes (through JDBC or its SET ISOLATION), and not when
     * it stays the same.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void isolationChangeInANestedScope_neverCommitsTheCallersWork(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED); // outermost: as without txguard
            db.insert(c, 1);
            String expected = database == Database.H2 || database == Database.DERBY ? "25007"
                    : database == Database.POSTGRESQL ? "25001" : "changed";
            assertEquals(expected, nestedIsolationChange(c, db,
                    () -> c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE)));
            if (database == Database.H2) {
                assertEquals("25007", nestedIsolationChange(c, db, () -> Legacy.sql(c,
                        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")));
            }
            if (database == Database.DERBY) {
                assertEquals("25007", nestedIsolationChange(c, db, () -> Legacy.sql(c, "SET ISOLATION SERIALIZABLE")));
                assertEquals("changed", nestedIsolationChange(c, db,
                        () -> c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED))); // the same level
            }
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted(); // the caller rolled back, and nothing had committed its work
        }
    }

    /** The SQLState the change failed with, or "changed". */
    private static String nestedIsolationChange(Connection c, TestDb db, NestingTest.Work change) throws SQLException {
        c.setAutoCommit(false);
        try {
            change.run();
            db.insert(c, 2);
            c.commit();
            return "changed";
        } catch (SQLException e) {
            c.rollback();
            return e.getSQLState();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static boolean tableExists(TestDb db, String table) throws SQLException {
        // Derby keeps unquoted names in upper case, the others as written or in lower case
        for (String name : List.of(table, table.toUpperCase(java.util.Locale.ROOT))) {
            try (ResultSet rs = db.raw().getMetaData().getTables(null, null, name, null)) {
                if (rs.next()) return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void applicationSavepoints_keepWorking_acrossNestedScopes(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            Savepoint beforeDao = c.setSavepoint("before_dao");
            dao.saveNeverRestoring(c, 2); // leaves its scope (and savepoint) open
            db.insert(c, 3);
            c.rollback(beforeDao); // back before the DAO's scope: txguard's later savepoint is gone too
            db.insert(c, 4);
            Savepoint unnamed = c.setSavepoint();
            dao.saveClassic(c, 5);
            c.rollback(unnamed);
            c.releaseSavepoint(beforeDao);
            dao.saveClassic(c, 6); // a fresh nested scope still works after all that
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 4, 6);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void applicationReleasingAnEarlierSavepoint_neverLosesANestedScopesRollbackPoint(Database database)
            throws Exception {
        // PostgreSQL and MariaDB destroy every later savepoint with the one released, txguard's included:
        // there the release is refused while a nested scope still needs its savepoint. H2 keeps them.
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            Savepoint app = c.setSavepoint("app_sp");
            releaseInsideANestedScopeThenRollBack(c, db, app);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    private static void releaseInsideANestedScopeThenRollBack(Connection c, TestDb db, Savepoint app)
            throws SQLException {
        c.setAutoCommit(false);
        try {
            db.insert(c, 2);
            try {
                c.releaseSavepoint(app);
                assertEquals("H2", c.getMetaData().getDatabaseProductName(), "refused on PostgreSQL and MariaDB");
            } catch (SQLException refused) {
                assertEquals("25000", refused.getSQLState(), refused.getMessage());
                assertTrue(refused.getMessage().contains("destroy the savepoint of the nested scope"), refused.getMessage());
            }
            c.rollback(); // the nested scope can still undo its own work
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void applicationReleasingAnEarlierSavepointAfterTheScopeEnded_isPlain(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            Savepoint app = c.setSavepoint("app_sp");
            dao.saveNeverRestoring(c, 2); // its scope merges (releasing txguard's savepoint) before the release
            c.releaseSavepoint(app);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void savepointNamesReusedByLaterScopes_leaveTheApplicationsSavepointIntact(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            Savepoint appOwn = c.setSavepoint("txg_app");
            for (int i = 0; i < 5; i++) dao.saveClassic(c, 10 + i); // each sets and releases txguard_1
            c.rollback(appOwn);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void emptyNestedScope_sendsNoSavepoint(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            emptyNestedScope(c);
            // Releasing a savepoint that was never set would fail on every one of these databases, so a
            // clean end proves none was set. The outer transaction is still open:
            db.assertCommitted();
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    private static void emptyNestedScope(Connection c) throws SQLException {
        c.setAutoCommit(false);
        c.commit();
        c.setAutoCommit(true);
    }

    /**
     * Derby ends the transaction on a lock timeout (40XL1) as on a deadlock. SQLite is left out: it reports no
     * SQLState, and what ends its transactions on its own (a full disk, an I/O error) cannot be caused here.
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void statementsAfterTheServerEndedTheTransaction_areRefused(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            if (database == Database.H2) {
                Legacy.sql(db.raw(), "CREATE ALIAS IF NOT EXISTS SIGNAL_40001 FOR \""
                        + H2Signals.class.getName() + ".serializationFailure\"");
            }
            if (database == Database.DERBY) {
                Connection holder = db.raw(); // holds a row lock that the nested scope then asks for
                holder.setAutoCommit(false);
                db.insert(holder, 99); // TestDb sets Derby's lock timeout to 0
            }
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            nestedScopeHitBySerializationFailure(c, db, database);
            SQLException refused = assertThrows(SQLException.class, () -> db.insert(c, 3));
            assertTrue(refused.getMessage().contains("the database ended the whole transaction"), refused.getMessage());
            assertThrows(SQLException.class, c::commit);
            c.rollback(); // the owner ends it
            db.insert(c, 4);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(4);
        }
    }

    private static void nestedScopeHitBySerializationFailure(Connection c, TestDb db, Database database)
            throws SQLException {
        c.setAutoCommit(false);
        try {
            db.insert(c, 2);
            try (Statement s = c.createStatement()) {
                s.execute(raiseSerializationFailure(db, database));
            }
        } catch (SQLException e) {
            assertEquals(database == Database.DERBY ? "40XL1" : "40001", e.getSQLState(), e.getMessage());
            c.rollback(); // as legacy code does; its savepoint is gone, the scope stays rollback-only
        } finally {
            c.setAutoCommit(true);
        }
    }

    /**
     * A stored procedure that commits (MariaDB, MySQL) commits the whole transaction from inside the server,
     * where txguard cannot see. What it does see is the nested scope's savepoint gone when the scope rolls
     * back: the error says the database ended the transaction, and every scope of it is rollback-only.
     * (PostgreSQL refuses a COMMIT in a procedure called inside a transaction block.)
     */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "MARIADB")
    void aProcedureThatCommits_isNoticedWhenTheNestedScopeRollsBack(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            String procedure = db.table + "_commits";
            Legacy.sql(db.rawObserver(), "CREATE PROCEDURE " + procedure + "() BEGIN INSERT INTO " + db.table
                    + " (id) VALUES (2); COMMIT; END");
            try {
                Connection c = db.guarded();
                c.setAutoCommit(false);
                db.insert(c, 1);
                SQLException noticed = assertThrows(SQLException.class, () -> callThenFail(c, procedure));
                assertEquals("25000", noticed.getSQLState());
                assertTrue(noticed.getMessage().contains("ended the transaction"), noticed.getMessage());
                assertThrows(SQLException.class, c::commit);
                c.rollback();
                c.setAutoCommit(true);
                db.assertCommitted(1, 2); // the procedure's commit cannot be undone
            } finally {
                Legacy.sql(db.rawObserver(), "DROP PROCEDURE " + procedure);
            }
        }
    }

    /** MariaDB runs what an executable comment holds: a COMMIT in one is a COMMIT, here the nested scope's. */
    @ParameterizedTest
    @EnumSource(value = Database.class, names = "MARIADB")
    void aCommitInAnExecutableComment_isSeenAsOne(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            insertAndCommitInAnExecutableComment(c, db);
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted(); // the DAO's commit ended its nested scope only
        }
    }

    private static void insertAndCommitInAnExecutableComment(Connection c, TestDb db) throws SQLException {
        c.setAutoCommit(false);
        db.insert(c, 2);
        Legacy.sql(c, "/*!COMMIT*/");
        c.setAutoCommit(true);
    }

    private static void callThenFail(Connection c, String procedure) throws SQLException {
        c.setAutoCommit(false);
        try {
            Legacy.sql(c, "CALL " + procedure + "()");
            throw new IllegalStateException("the DAO failed after the call");
        } catch (RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static String raiseSerializationFailure(TestDb db, Database database) {
        switch (database) {
            case POSTGRESQL:
                return "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'serialization_failure'; END $$";
            case MARIADB:
                return "SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = 'deadlock stand-in'";
            case DERBY:
                return "UPDATE " + db.table + " SET note = 'x' WHERE id = 99"; // locked: a lock timeout at once
            default:
                return "SELECT CAST(SIGNAL_40001() AS INT)";
        }
    }
}
