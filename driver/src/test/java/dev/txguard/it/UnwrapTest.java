package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Applications that unwrap to the driver's own objects and send work through them, out of the guard's
 * sight. The statements are covered: once anything was unwrapped, a nested scope sets its savepoint as it
 * begins, so rolling it back undoes that work too. (The driver's own transaction methods are routed to the
 * guard by the agent: UnwrappedConnectionsUnderAgent, in the agent module.)
 */
class UnwrapTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void workSentThroughTheDriversConnection_isUndoneWithItsNestedScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            Connection driverConnection = c.unwrap(db.raw().getClass());
            assertNotSame(c, driverConnection);
            c.setAutoCommit(false);
            db.insert(c, 1);
            insertThenRollBack(c, driverConnection, db.table, 2);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void unwrappedWhileTheNestedScopeIsOpen_itsSavepointIsSetThen(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            nestedScopeUnwrappingAStatement(c, db, 2);
            c.commit();
            c.setAutoCommit(true);
            db.assertCommitted(1);
        }
    }

    /** A DAO's scope whose insert goes through the driver's own connection, then is rolled back. */
    private static void insertThenRollBack(Connection c, Connection driverConnection, String table, int id)
            throws SQLException {
        c.setAutoCommit(false);
        try (Statement s = driverConnection.createStatement()) {
            s.executeUpdate("INSERT INTO " + table + " (id) VALUES (" + id + ")");
        }
        c.rollback();
        c.setAutoCommit(true);
    }

    /** The scope begins before anything is unwrapped: no statement of its own ran through the guard yet. */
    private static void nestedScopeUnwrappingAStatement(Connection c, TestDb db, int id) throws SQLException {
        c.setAutoCommit(false);
        try (Statement guarded = c.createStatement()) {
            Class<? extends Statement> driverClass;
            try (Statement raw = db.raw().createStatement()) {
                driverClass = raw.getClass();
            }
            Statement driverStatement = guarded.unwrap(driverClass);
            assertNotSame(guarded, driverStatement);
            assertEquals(1, driverStatement.executeUpdate("INSERT INTO " + db.table + " (id) VALUES (" + id + ")"));
        }
        c.rollback();
        c.setAutoCommit(true);
    }
}
