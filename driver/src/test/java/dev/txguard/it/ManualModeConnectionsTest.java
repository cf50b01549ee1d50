package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.txguard.TxGuardDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Connections in manual mode before txguard sees anything of them, from {@link ManualModeDriver}, which commits at
 * close what reaches its close, as Oracle's driver does. Opened from a driver (a URL or driver setting asked for
 * manual mode), the connection is the application's like any other: what it leaves uncommitted is rolled back at
 * close, whatever the driver would do. Handed out by a pool or data source that txguard is over, its uncommitted
 * work is the giver's to end (a transaction manager's global transaction, a pool in manual mode), and txguard leaves
 * it to the giver: JtaTest shows why, with Agroal and Narayana. (Under the agent, which guards the driver's
 * connections beneath any data source: DriversUnderAgent.)
 */
class ManualModeConnectionsTest {

    @ParameterizedTest
    @EnumSource(Database.class)
    void openedFromADriver_whatIsLeftUncommittedIsRolledBackAtClose(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            leaveWorkUncommitted(db, DriverManager.getConnection(Database.guarded(ManualModeDriver.url(db.rawUrl))));
            db.assertCommitted();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void handedOutByADataSource_whatIsLeftUncommittedIsTheGiversToEnd(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            TxGuardDataSource overTheGiver = new TxGuardDataSource(new DriverManagerDataSource(ManualModeDriver.url(db.rawUrl)));
            leaveWorkUncommitted(db, overTheGiver.getConnection());
            db.assertCommitted(1, 2); // the giver's close committed them, as it would without txguard
        }
    }

    /** The service's row 1 and a DAO's row 2, nested in the transaction the connection came with, then close. */
    static void leaveWorkUncommitted(TestDb db, Connection c) throws Exception {
        try (c) {
            assertFalse(c.getAutoCommit());
            db.insert(c, 1);
            new Legacy.Dao(db.table).saveClassic(c, 2); // unguarded, its commit would commit 1 and 2
            db.assertCommitted();
        }
    }
}
