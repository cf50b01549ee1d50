package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
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
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            c.rollback();
            db.insert(c, 2);
            c.commit();
            c.setAutoCommit(true);
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
