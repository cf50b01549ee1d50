package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Under the agent, an application that unwraps a guarded connection to the driver's own class and calls
 * its transaction methods there is guarded all the same: the calls reach the engine. Runs only in the
 * agent module's model-under-agent execution (a JVM started with -javaagent); without the agent nothing
 * can route them, which README.md lists among the driver's limits.
 */
class UnwrappedConnectionsUnderAgent {

    @BeforeAll
    static void underTheAgent() {
        assertTrue(EngineProbe.activationsReported(), "this class must run in a JVM started with the txguard agent");
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aDaoCommittingOnTheDriversConnection_onlyEndsItsNestedScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            c.setAutoCommit(false);
            db.insert(c, 1);
            saveThroughTheDriver(c, db, 2);
            db.assertCommitted(); // plain JDBC would have committed 1 and 2 here
            assertEquals(1, EngineProbe.openScopes(c));
            c.rollback();
            c.setAutoCommit(true);
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void onItsOwn_theDriversConnectionCommitsForReal(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            saveThroughTheDriver(c, db, 1);
            db.assertCommitted(1);
            assertEquals(0, EngineProbe.openScopes(c));
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void theDriversConnectionAnswersAsTheGuard_andItsSavepointsAreTheEngines(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            Connection driverConnection = c.unwrap(db.raw().getClass());
            c.setAutoCommit(false);
            db.insert(c, 1);
            savepointsThroughTheDriver(c, driverConnection, db);
            assertFalse(driverConnection.getAutoCommit()); // the outer transaction is still open
            c.commit();
            c.setAutoCommit(true);
            assertTrue(driverConnection.getAutoCommit());
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void closingTheDriversConnection_closesTheGuardWhichRollsBack(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = db.guarded();
            Connection driverConnection = c.unwrap(db.raw().getClass());
            c.setAutoCommit(false);
            db.insert(c, 1);
            driverConnection.close();
            assertTrue(c.isClosed());
            assertEquals(0, EngineProbe.openScopes(c)); // the guard's close ran: its scope is gone
            db.assertCommitted();
        }
    }

    /** A legacy DAO written against the driver's class: its own "transaction" on the unwrapped connection. */
    private static void saveThroughTheDriver(Connection c, TestDb db, int id) throws SQLException {
        Connection driverConnection = c.unwrap(db.raw().getClass());
        driverConnection.setAutoCommit(false);
        try (Statement s = driverConnection.createStatement()) {
            s.executeUpdate("INSERT INTO " + db.table + " (id) VALUES (" + id + ")");
            driverConnection.commit();
        } finally {
            driverConnection.setAutoCommit(true);
        }
    }

    /** A nested scope using application savepoints through the driver's connection: they are the engine's. */
    private static void savepointsThroughTheDriver(Connection c, Connection driverConnection, TestDb db)
            throws SQLException {
        c.setAutoCommit(false);
        assertFalse(driverConnection.getAutoCommit());
        db.insert(c, 2);
        Savepoint savepoint = driverConnection.setSavepoint("app");
        assertEquals(1, EngineProbe.trackedApplicationSavepoints(c));
        db.insert(c, 3);
        driverConnection.rollback(savepoint);
        driverConnection.releaseSavepoint(savepoint);
        assertEquals(0, EngineProbe.trackedApplicationSavepoints(c));
        Savepoint unnamed = driverConnection.setSavepoint();
        assertEquals(1, EngineProbe.trackedApplicationSavepoints(c));
        driverConnection.releaseSavepoint(unnamed);
        c.setAutoCommit(true); // ends the nested scope
    }
}
