package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import javax.sql.ConnectionPoolDataSource;
import javax.sql.PooledConnection;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under the agent, the handle an application server takes from a {@code PooledConnection} (through the
 * interface, as servers call it) is guarded on every database, MariaDB's included, whose
 * {@code getConnection()} returns its own connection class and is reached through a compiler-written bridge.
 */
class PooledHandlesUnderAgent {

    @BeforeAll
    static void underTheAgent() throws Exception {
        assertTrue(EngineProbe.agentGuardsConnections(), "this class must run in a JVM started with the txguard agent");
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void aHandlesNestedDaoCommit_onlyEndsItsScope(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            PooledConnection pooled = database.ownDataSource(db.rawUrl, ConnectionPoolDataSource.class).getPooledConnection();
            try (Connection handle = pooled.getConnection()) {
                assertTrue(EngineProbe.guarded(handle));
                db.serviceRollsBackItsNestedDao(handle);
            } finally {
                pooled.close();
            }
        }
    }

    /**
     * MariaDB's own method, called on its own type, returns its own connection class, which no guard can be:
     * a guard goes over it in place, and the connection's transaction methods go to that guard.
     */
    @org.junit.jupiter.api.Test
    void mariadbsOwnMethod_theHandlesTransactionCallsGoToTheGuardPutOverItInPlace() throws Exception {
        try (TestDb db = TestDb.open(Database.MARIADB)) {
            org.mariadb.jdbc.MariaDbPoolConnection pooled =
                    (org.mariadb.jdbc.MariaDbPoolConnection) Database.MARIADB.ownDataSource(db.rawUrl, ConnectionPoolDataSource.class).getPooledConnection();
            try (org.mariadb.jdbc.Connection handle = pooled.getConnection()) {
                assertFalse(EngineProbe.guarded(handle));
                db.serviceRollsBackItsNestedDao(handle);
            } finally {
                pooled.close();
            }
        }
    }

    /**
     * The same from an {@code XADataSource}, as a transaction manager's pool takes it (Atomikos, IronJacamar, Narayana's
     * own): the physical connection the driver opens for the XAConnection stays the driver's own, which PostgreSQL's
     * casts to its own class (before, that threw a ClassCastException under the agent), and the handle is guarded. A
     * local transaction on the handle nests a DAO as anywhere, and a branch the XA resource commits in one phase
     * commits what the handle did in it.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void anXaConnectionsHandle_isGuarded_andItsBranchCommits(Database database) throws Exception {
        try (TestDb db = TestDb.open(database)) {
            XAConnection xa = database.ownDataSource(db.rawUrl, XADataSource.class).getXAConnection();
            try (Connection handle = xa.getConnection()) {
                assertTrue(EngineProbe.guarded(handle));
                db.serviceRollsBackItsNestedDao(handle);
                XAResource branches = xa.getXAResource();
                Xid branch = new Xid() {
                    public int getFormatId() {
                        return 0x7478;
                    }

                    public byte[] getGlobalTransactionId() {
                        return db.table.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    }

                    public byte[] getBranchQualifier() {
                        return new byte[] {1};
                    }
                };
                branches.start(branch, XAResource.TMNOFLAGS);
                db.insert(handle, 3);
                branches.end(branch, XAResource.TMSUCCESS);
                db.assertCommitted();
                branches.commit(branch, true); // one phase: this machine's PostgreSQL prepares no transactions
                db.assertCommitted(3);
            } finally {
                xa.close();
            }
        }
    }
}
