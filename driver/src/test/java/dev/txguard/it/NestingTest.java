package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviours 1 to 6 of the driver issue: nested begins become savepoints, plain code stays plain. */
class NestingTest {

    interface Work {
        void run() throws SQLException;
    }

    /** A service in the classic shape: its own transaction around work that opens its own. */
    static void service(Connection c, TestDb db, boolean fail, Work inner) throws SQLException {
        c.setAutoCommit(false);
        try {
            db.insert(c, 1);
            inner.run();
            db.insert(c, 3);
            if (fail) throw new ServiceFailure();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void classicNestedDao_serviceFailsAfterIt_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection raw = db.raw();
            ignoringFailure(() -> service(raw, db, true, () -> dao.saveClassic(raw, 2)));
            // The hazard: plain JDBC commits the outer work from inside the DAO (and then autocommits row 3;
            // PostgreSQL even refuses the service's rollback).
            assertTrue(db.committed().containsAll(Set.of(1, 2)), "plain JDBC committed " + db.committed());

            Legacy.sql(raw, "DELETE FROM " + db.table);
            Connection c = db.guarded();
            assertThrows(ServiceFailure.class, () -> service(c, db, true, () -> dao.saveClassic(c, 2)));
            db.assertCommitted();
            assertTrue(c.getAutoCommit(), "back in autocommit after the outermost scope");

            service(c, db, false, () -> dao.saveClassic(c, 2));
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoRestoringSavedAutoCommit_serviceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            assertThrows(ServiceFailure.class, () -> service(c, db, true, () -> dao.saveRestoringSaved(c, 2)));
            db.assertCommitted();
            service(c, db, false, () -> dao.saveRestoringSaved(c, 2));
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoNeverRestoringAutoCommit_serviceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection raw = db.raw();
            ignoringFailure(() -> service(raw, db, true, () -> dao.saveNeverRestoring(raw, 2)));
            db.assertCommitted(1, 2); // the hazard

            Legacy.sql(raw, "DELETE FROM " + db.table);
            Connection c = db.guarded();
            assertThrows(ServiceFailure.class, () -> service(c, db, true, () -> dao.saveNeverRestoring(c, 2)));
            db.assertCommitted();
            service(c, db, false, () -> dao.saveNeverRestoring(c, 2));
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void staticHelpersAtBothLevels_noConfiguration_serviceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            Legacy.Tx.begin(c);
            try {
                db.insert(c, 1);
                dao.saveWithHelpers(c, 2);
                db.insert(c, 3);
                throw new ServiceFailure();
            } catch (ServiceFailure expected) {
                Legacy.Tx.rollback(c);
            } finally {
                Legacy.Tx.end(c);
            }
            db.assertCommitted();

            Legacy.Tx.begin(c);
            db.insert(c, 1);
            dao.saveWithHelpers(c, 2);
            Legacy.Tx.commit(c);
            Legacy.Tx.end(c);
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoRestoringTwice_theSecondRestoreIsHarmlessAsInPlainJdbc(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            assertThrows(ServiceFailure.class, () -> service(c, db, true, () -> dao.saveRestoringTwice(c, 2)));
            db.assertCommitted();
            service(c, db, false, () -> dao.saveRestoringTwice(c, 2));
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void nestedDaoRollsBackItsOwnWork_outerWorkBeforeAndAfterCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection raw = db.raw();
            ignoringFailure(() -> service(raw, db, false, () -> dao.saveThenUndo(raw, 2)));
            db.assertCommitted(3); // the hazard: the DAO's rollback also took the service's row 1

            Legacy.sql(raw, "DELETE FROM " + db.table);
            Connection c = db.guarded();
            service(c, db, false, () -> dao.saveThenUndo(c, 2));
            db.assertCommitted(1, 3);
        }
    }

    /** Begins, lets a nested DAO work before doing anything itself, then undoes everything since its begin. */
    static void delegateThenUndo(Connection c, TestDb db) throws SQLException {
        c.setAutoCommit(false);
        try {
            new Legacy.Dao(db.table).saveClassic(c, 2);
            c.rollback();
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void rollbackOfAScopeThatRanNothingItself_undoesWhatItsNestedScopesDid(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            service(c, db, false, () -> delegateThenUndo(c, db));
            db.assertCommitted(1, 3);
        }
    }

    /** Begins, inserts its level, recurses; level 3 undoes itself (and what level 4 merged into it). */
    static void recurse(Connection c, TestDb db, int level) throws SQLException {
        c.setAutoCommit(false);
        try {
            db.insert(c, level);
            if (level < 4) recurse(c, db, level + 1);
            if (level == 3) c.rollback(); else c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void recursion_eachLevelIsAScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            recurse(db.guarded(), db, 1);
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void loopCallingNestedDaoManyTimes(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            List<Integer> expected = new ArrayList<>(List.of(1, 3));
            service(c, db, false, () -> {
                for (int i = 0; i < 60; i++) {
                    if (i % 3 == 0) dao.saveThenUndo(c, 100 + i);
                    else if (i % 3 == 1) dao.saveClassic(c, 100 + i);
                    else dao.saveNeverRestoring(c, 100 + i);
                }
            });
            for (int i = 0; i < 60; i++) if (i % 3 != 0) expected.add(100 + i);
            assertEquals(Set.copyOf(expected), db.committed());

            Legacy.sql(db.raw(), "DELETE FROM " + db.table);
            assertThrows(ServiceFailure.class, () -> service(c, db, true, () -> {
                for (int i = 0; i < 60; i++) dao.saveClassic(c, 100 + i);
            }));
            db.assertCommitted();
        }
    }

    /** Begins and inserts; undoes its work when asked; never commits nor restores. */
    static void step(Connection c, TestDb db, int id, boolean undo) throws SQLException {
        c.setAutoCommit(false);
        db.insert(c, id);
        if (undo) c.rollback();
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void twoCallsOfTheSameDaoMethod_statementBetweenBelongsToTheCaller(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            step(c, db, 10, false);
            db.insert(c, 11); // the caller's, though the first step never ended its scope
            step(c, db, 12, true); // undoes 12 only
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(10, 11);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void sqlLevelBeginCommitRollback_nestLikeApiBegins(Database database) throws Exception {
        // Legacy.sql runs statements on its caller's behalf: without listing it, its ROLLBACK would be a
        // stray rollback (it did not begin the scope), which is what txguard.helpers is for.
        try (TestDb db = TestDb.open(database, "txguard.helpers", "dev.txguard.it.Legacy")) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            Work sqlDao = () -> {
                Legacy.sql(c, "START TRANSACTION");
                db.insert(c, 2);
                Legacy.sql(c, "COMMIT");
            };
            Work sqlDaoUndoing = () -> {
                Legacy.sql(c, "BEGIN");
                db.insert(c, 4);
                Legacy.sql(c, "ROLLBACK");
            };
            // SQL outermost, SQL and API nested
            Legacy.sql(c, "BEGIN");
            db.insert(c, 1);
            sqlDao.run();
            sqlDaoUndoing.run();
            dao.saveClassic(c, 5);
            Legacy.sql(c, "ROLLBACK");
            db.assertCommitted();
            assertTrue(c.getAutoCommit());

            Legacy.sql(c, "BEGIN WORK");
            db.insert(c, 1);
            sqlDao.run();
            sqlDaoUndoing.run();
            dao.saveThenUndo(c, 6);
            Legacy.sql(c, "COMMIT");
            db.assertCommitted(1, 2);

            // API outermost, SQL nested
            Legacy.sql(c, "DELETE FROM " + db.table);
            service(c, db, false, () -> {
                sqlDao.run();
                sqlDaoUndoing.run();
            });
            db.assertCommitted(1, 2, 3);
        }
    }

    /** A DAO that edits its caller's result set in its own "transaction", the classic shape. */
    static void editInOwnTransaction(Connection c, Work edit) throws SQLException {
        c.setAutoCommit(false);
        try {
            edit.run();
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    interface RowsWork {
        void run(Connection c, ResultSet rows) throws SQLException;
    }

    /**
     * The caller's transaction: rows 1 and 2, read back through an updatable result set on row 1 for the
     * work, which may edit it; then the caller commits.
     */
    private static void editingTheCallersRows(TestDb db, RowsWork work) throws SQLException {
        Connection c = db.guarded();
        c.setAutoCommit(false);
        db.insert(c, 1);
        db.insert(c, 2);
        try (Statement s = c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_UPDATABLE);
             ResultSet rows = s.executeQuery("SELECT id, note FROM " + db.table + " ORDER BY id")) {
            assertTrue(rows.next());
            work.run(c, rows);
        }
        c.commit();
        c.setAutoCommit(true);
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void updatableResultSet_writesInANestedScopeAreUndoneWithIt(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            editingTheCallersRows(db, (c, rows) -> {
                assertThrows(ServiceFailure.class, () -> editInOwnTransaction(c, () -> {
                    rows.updateString("note", "renamed");
                    rows.updateRow();
                    throw new ServiceFailure();
                }));
                assertTrue(rows.next());
                assertThrows(ServiceFailure.class, () -> editInOwnTransaction(c, () -> {
                    rows.deleteRow();
                    throw new ServiceFailure();
                }));
            });
            db.assertCommitted(1, 2);
            assertEquals(java.util.Arrays.asList(null, null), db.committedNotes(), "the renaming was undone");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void updatableResultSet_aFailedInsertInANestedScope_theCallerCarriesOn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            editingTheCallersRows(db, (c, rows) -> {
                // on PostgreSQL the duplicate aborts the transaction: only the nested scope's savepoint saves it
                assertThrows(SQLException.class, () -> editInOwnTransaction(c, () -> {
                    rows.moveToInsertRow();
                    rows.updateInt("id", 2);
                    rows.insertRow();
                }));
                rows.moveToCurrentRow();
                db.insert(c, 3);
            });
            db.assertCommitted(1, 2, 3);
        }
    }

    /** A batch job that commits every third row and stops at a duplicate key, as many do. */
    static String batchJob(Connection c, TestDb db) throws SQLException {
        c.setAutoCommit(false);
        try {
            for (int i = 1; i <= 10; i++) {
                db.insert(c, i);
                if (i % 3 == 0) c.commit();
            }
            db.insert(c, 5);
            c.commit();
            return "no error";
        } catch (SQLException e) {
            c.rollback();
            return e.getClass().getName() + "/" + e.getSQLState();
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void noNesting_plainJdbcBehaviour(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection raw = db.raw();
            String rawOutcome = batchJob(raw, db);
            Set<Integer> rawRows = db.committed();
            assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7, 8, 9), rawRows);

            Legacy.sql(raw, "DELETE FROM " + db.table);
            Connection c = db.guarded();
            assertEquals(rawOutcome, batchJob(c, db));
            assertEquals(rawRows, db.committed());

            // commit() in autocommit mode: whatever the driver does (PostgreSQL refuses), txguard does too
            assertEquals(outcome(raw::commit), outcome(c::commit));
            assertEquals(outcome(raw::rollback), outcome(c::rollback));
        }
    }

    private static void ignoringFailure(Work work) {
        try {
            work.run();
        } catch (SQLException | RuntimeException plainJdbcFailure) {
            // what plain JDBC does here differs per database; the rows it leaves are what the test checks
        }
    }

    private static String outcome(Work work) {
        try {
            work.run();
            return "ok";
        } catch (SQLException e) {
            return e.getClass().getName() + "/" + e.getSQLState();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void afterTheOutermostScope_plainAutocommit(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            service(c, db, false, () -> dao.saveNeverRestoring(c, 2));
            assertTrue(c.getAutoCommit());
            db.insert(c, 7);
            db.assertCommitted(1, 2, 3, 7); // seen at once: autocommit
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void closeWithScopesOpen_rollsBackEverything(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            dao.saveNeverRestoring(c, 2);
            c.setAutoCommit(false);
            db.insert(c, 3);
            assertFalse(c.getAutoCommit());
            c.close();
            db.assertCommitted();
        }
    }
}
