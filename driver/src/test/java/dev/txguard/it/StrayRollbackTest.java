package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Behaviour 8: a rollback from code that did not begin the scope marks it rollback-only. */
class StrayRollbackTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void strayRollbackInNestedScope_rollsItBack_enclosingScopeCarriesOn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            SQLException refused = assertThrows(SQLException.class, () -> dao.saveWithStrayRollback(c, 2, 3));
            assertEquals("25000", refused.getSQLState());
            assertTrue(refused.getMessage().contains("rollback-only"), refused.getMessage());
            assertTrue(refused.getMessage().contains("Legacy$Cleanup.rollbackQuietly"), refused.getMessage());
            db.insert(c, 4); // the caller caught the failure and carries on
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 4);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = {"SQLITE", "DERBY"})
    void strayRollbackInNestedScope_aWriteThroughAnUpdatableResultSetIsRefusedToo(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            try (Statement s = c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_UPDATABLE);
                 ResultSet rows = s.executeQuery("SELECT id, note FROM " + db.table)) {
                assertTrue(rows.next());
                SQLException refused = assertThrows(SQLException.class, () -> renameAfterStrayRollback(c, rows));
                assertEquals("25000", refused.getSQLState());
                assertTrue(refused.getMessage().contains("statement refused"), refused.getMessage());
                SQLException reread = assertThrows(SQLException.class, () -> rereadAfterStrayRollback(c, rows));
                assertEquals("25000", reread.getSQLState(), reread.getMessage());
            }
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
            assertEquals(Collections.singletonList(null), db.committedNotes(), "the refused renaming");
        }
    }

    /** The same, reading the row again instead: a re-read is a statement too. */
    private static void rereadAfterStrayRollback(Connection c, ResultSet rows) throws SQLException {
        c.setAutoCommit(false);
        try {
            Legacy.Cleanup.rollbackQuietly(c);
            rows.refreshRow();
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** A DAO whose helper rolls back on its behalf, and which then edits its caller's result set. */
    private static void renameAfterStrayRollback(Connection c, ResultSet rows) throws SQLException {
        c.setAutoCommit(false);
        try {
            Legacy.Cleanup.rollbackQuietly(c);
            rows.updateString("note", "renamed");
            rows.updateRow();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void strayRollbackOfTheOutermostScope_ownerCannotCommit(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            Legacy.Cleanup.rollbackQuietly(c);
            SQLException statement = assertThrows(SQLException.class, () -> db.insert(c, 2));
            assertEquals("25000", statement.getSQLState());
            SQLException commit = assertThrows(SQLException.class, c::commit);
            assertTrue(commit.getMessage().contains("commit refused"), commit.getMessage());
            c.rollback(); // the owner ends it
            db.insert(c, 3);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void rollbackByTheOwner_staysPlainJdbc(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Legacy.rollBackThenCarryOn(db.guarded(), db.table, true);
            db.assertCommitted(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void helperListedInConfiguration_rollsBackOnItsCallersBehalf(Database database) throws Exception {
        try (TestDb db = TestDb.open(database, "txguard.helpers", "dev.txguard.it.Legacy$Cleanup")) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            dao.saveWithStrayRollback(c, 2, 3); // the DAO's own rollback now: 2 undone, 3 kept
            db.insert(c, 4);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1, 3, 4);
        }
    }
}
