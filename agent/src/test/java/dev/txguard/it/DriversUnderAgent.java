package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Under the agent, a connection straight from a driver is guarded on every database: through DriverManager and
 * through {@code java.sql.Driver.connect}, which MariaDB's driver declares to return its own connection class and
 * reaches through a compiler-written bridge. Such a connection is the application's, also when it opens in manual
 * mode.
 */
class DriversUnderAgent {

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aDriverManagerConnectionsNestedDaoCommit_onlyEndsItsScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Connection c = DriverManager.getConnection(db.rawUrl)) {
            assertTrue(EngineProbe.guarded(c));
            db.serviceRollsBackItsNestedDao(c);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aDriversConnectionsNestedDaoCommit_onlyEndsItsScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Driver driver = DriverManager.getDriver(db.rawUrl);
            try (Connection c = driver.connect(db.rawUrl, new Properties())) {
                assertTrue(EngineProbe.guarded(c));
                db.serviceRollsBackItsNestedDao(c);
            }
        }
    }

    /**
     * A driver whose connections open in manual mode hands them to the application, which asked for that mode: what
     * the application leaves uncommitted is rolled back at close, though this driver would commit it there.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void aConnectionADriverOpensInManualMode_whatIsLeftUncommittedIsRolledBackAtClose(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            Connection c = DriverManager.getConnection(ManualModeDriver.url(db.rawUrl));
            assertTrue(EngineProbe.guarded(c));
            ManualModeConnectionsTest.leaveWorkUncommitted(db, c);
            db.assertCommitted();
        }
    }

    /** MariaDB's own method, called on its own type, returns its own class: a guard goes over it in place. */
    @Test
    void mariadbsOwnConnect_theConnectionsTransactionCallsGoToTheGuardPutOverItInPlace() throws Exception {
        try (TestDb db = TestDb.open(Database.MARIADB);
             org.mariadb.jdbc.Connection c = new org.mariadb.jdbc.Driver().connect(db.rawUrl, new Properties())) {
            assertFalse(EngineProbe.guarded(c));
            db.serviceRollsBackItsNestedDao(c);
        }
    }
}
