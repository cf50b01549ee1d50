package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.TxGuardDataSource;
import dev.txguard.internal.EngineProbe;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.narayana.NarayanaTransactionIntegration;
import jakarta.transaction.TransactionManager;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A JTA transaction manager (Narayana) owns the transaction of every connection its pool hands out inside a
 * global transaction: Agroal with its Narayana integration, as Quarkus runs it, enlists the connection as it hands
 * it out (autocommit off), commits or rolls it back when the global transaction ends, and refuses commit(),
 * rollback() and setAutoCommit(true) from the application meanwhile. txguard must leave that transaction to the
 * transaction manager: before, a guard over Agroal's handle (TxGuardDataSource, or the agent) rolled back at
 * close what the handle had done, Agroal refused, and no global transaction that wrote could commit.
 *
 * <p>Three ways: a {@code jdbc:txguard:} URL as the pool's (beneath: the transaction manager's begin and commit
 * reach the guard), {@code TxGuardDataSource} over the pool, and the database's own URL, which the agent guards
 * over the pool's handles and which without the agent is plain JDBC, the control.
 */
class JtaTest {

    private static final TransactionManager TRANSACTIONS;

    static {
        com.arjuna.ats.arjuna.common.arjPropertyManager.getObjectStoreEnvironmentBean()
                .setObjectStoreDir("target/narayana-" + ProcessHandle.current().pid());
        TRANSACTIONS = com.arjuna.ats.jta.TransactionManager.transactionManager();
    }

    enum Way {
        BENEATH, OVER, DATABASES_OWN_URL;

        /** Whether a guard sits over the pool's handles, where the application's calls reach it before Agroal's checks. */
        boolean guardOverHandles() throws SQLException {
            return this == OVER || this == DATABASES_OWN_URL && EngineProbe.agentGuardsConnections();
        }
    }

    /** One Agroal pool enlisting in Narayana's transactions, and the data source the application uses. */
    private static final class Pool implements AutoCloseable {
        final DataSource dataSource;
        private final AgroalDataSource agroal;

        Pool(TestDb db, Way way, boolean autoCommit) throws SQLException {
            this(db, way, autoCommit, null);
        }

        /** With {@code xaDataSource}, the database's XADataSource class, the pool enlists XA resources (two-phase commit). */
        Pool(TestDb db, Way way, boolean autoCommit, String xaDataSource) throws SQLException {
            String url = way == Way.BENEATH ? db.guardedUrl() : db.rawUrl;
            agroal = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                    .connectionPoolConfiguration(pool -> pool.maxSize(1)
                            .transactionIntegration(new NarayanaTransactionIntegration(TRANSACTIONS,
                                    new com.arjuna.ats.internal.jta.transaction.arjunacore.TransactionSynchronizationRegistryImple()))
                            .connectionFactoryConfiguration(factory -> {
                                factory.jdbcUrl(url).autoCommit(autoCommit);
                                return xaDataSource == null ? factory : factory.connectionProviderClassName(xaDataSource);
                            })));
            dataSource = way == Way.OVER ? new TxGuardDataSource(agroal) : agroal;
        }

        @Override
        public void close() {
            agroal.close();
        }
    }

    static Stream<Arguments> everyWayAndDatabase() throws SQLException {
        return cases(database -> true, false);
    }

    /** Ways that put a guard over the pool's handles (the agent's only with the agent), on every database but Derby. */
    static Stream<Arguments> guardOverThePool() throws SQLException {
        return cases(database -> database != Database.DERBY, true);
    }

    static Stream<Arguments> guardOverThePoolOnDerby() throws SQLException {
        return cases(database -> database == Database.DERBY, true);
    }

    private static Stream<Arguments> cases(java.util.function.Predicate<Database> databases, boolean onlyGuardsOverThePool)
            throws SQLException {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            if (!databases.test(database)) continue;
            for (Way way : Way.values()) {
                if (!onlyGuardsOverThePool || way.guardOverHandles()) all.add(Arguments.of(database, way));
            }
        }
        return all.stream();
    }

    /** A failed test must not leave its global transaction on the thread for the next one. */
    @AfterEach
    void noTransactionLeftOnTheThread() throws Exception {
        if (TRANSACTIONS.getTransaction() != null) TRANSACTIONS.rollback();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyWayAndDatabase")
    void theTransactionManagerCommitsAndRollsBackWhatItsConnectionsDid(Database database, Way way) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true)) {
            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
            }
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 2);
            }
            db.assertCommitted(); // nothing before the transaction manager commits
            TRANSACTIONS.commit();
            db.assertCommitted(1, 2);

            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 3);
            }
            TRANSACTIONS.rollback();
            db.assertCommitted(1, 2);

            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 4); // outside a global transaction the pool's autocommit holds
            }
            db.assertCommitted(1, 2, 4);
        }
    }

    /**
     * A legacy DAO called inside a global transaction, after the service wrote: with a guard over the pool's
     * handles its begin nests in the transaction manager's transaction, its commit releases a savepoint, and the
     * global transaction decides. Without one, Agroal refuses the DAO's commit, as JTA requires.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyWayAndDatabase")
    void aDaoInsideAGlobalTransaction_nestsInItWhenAGuardIsOverThePool(Database database, Way way) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            if (!way.guardOverHandles()) {
                TRANSACTIONS.begin();
                try (Connection c = pool.dataSource.getConnection()) {
                    db.insert(c, 1);
                    SQLException refused = assertThrows(SQLException.class, () -> dao.saveClassic(c, 2));
                    assertTrue(refused.getMessage().contains("transaction"), refused.getMessage());
                }
                TRANSACTIONS.rollback();
                db.assertCommitted();
                return;
            }
            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                dao.saveClassic(c, 2);
            }
            TRANSACTIONS.rollback();
            db.assertCommitted();

            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 3);
                dao.saveClassic(c, 4);
                dao.saveRestoringSaved(c, 5);
            }
            TRANSACTIONS.commit();
            db.assertCommitted(3, 4, 5);
        }
    }

    /**
     * The documented limit: a DAO's begin that comes first on the handle is the outermost scope, txguard's to end,
     * so with a guard over the pool, closing the handle with that scope open makes txguard roll back, which Agroal
     * refuses inside a global transaction: the error reaches the application, and the transaction manager rolls
     * back. Without a guard over the pool the DAO's begin changes nothing, and the global transaction commits.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyWayAndDatabase")
    void aDaoThatBeginsFirstAndNeverEnds_isRolledBackAtCloseWhenAGuardIsOverThePool(Database database, Way way)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true)) {
            TRANSACTIONS.begin();
            Connection c = pool.dataSource.getConnection();
            c.setAutoCommit(false);
            db.insert(c, 1);
            if (way.guardOverHandles()) {
                SQLException refused = assertThrows(SQLException.class, c::close);
                assertTrue(refused.getMessage().contains("Attempting to rollback while enlisted"), refused.getMessage());
                TRANSACTIONS.rollback();
                db.assertCommitted();
            } else {
                c.close();
                TRANSACTIONS.commit();
                db.assertCommitted(1);
            }
        }
    }

    /**
     * A DAO that fails after it wrote rolls back to its savepoint, the service carries on, and the global
     * transaction commits the rest: on PostgreSQL too, where the failed statement would otherwise have aborted the
     * whole transaction. Derby is left out: see {@link #onDerby_agroalRefusesTheRollbackToASavepoint}.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("guardOverThePool")
    void aFailingDaoInsideAGlobalTransaction_undoesItsOwnWorkOnly(Database database, Way way) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true)) {
            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                assertThrows(SQLException.class, () -> new Legacy.Dao(db.table).saveClassic(c, 3, 1)); // 1: a duplicate key
                db.insert(c, 2);
            }
            TRANSACTIONS.commit();
            db.assertCommitted(1, 2);
        }
    }

    /**
     * The handle closed while a DAO's scope is open: the scope's work is rolled back to its savepoint, with a
     * warning, and the rest of the global transaction is left to the transaction manager, which commits it.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("guardOverThePool")
    void aHandleClosedWithADaosScopeOpen_undoesThatScopeOnly(Database database, Way way) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true); LogCapture log = LogCapture.start()) {
            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                c.setAutoCommit(false); // a DAO that begins and never ends
                db.insert(c, 2);
            }
            TRANSACTIONS.commit();
            db.assertCommitted(1);
            assertEquals(1, log.count("the rest is left to that transaction's owner"), log.all());
        }
    }

    /**
     * Derby's savepoints go through JDBC's Savepoint API (docs/semantics.md), and Agroal refuses rollback(Savepoint)
     * on a connection in a global transaction, as it refuses rollback(): there a nested scope cannot be undone, and
     * the error reaches the application. The transaction manager's rollback still undoes everything.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("guardOverThePoolOnDerby")
    void onDerby_agroalRefusesTheRollbackToASavepoint(Database database, Way way) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, way, true)) {
            TRANSACTIONS.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                SQLException refused = assertThrows(SQLException.class, () -> new Legacy.Dao(db.table).saveClassic(c, 3, 1));
                assertTrue(refused.getMessage().contains("Attempting to rollback while enlisted"), refused.getMessage());
            }
            TRANSACTIONS.rollback();
            db.assertCommitted();
        }
    }

    /**
     * Without a transaction manager a connection that comes in manual mode is in the same position: what a
     * borrower leaves uncommitted is the pool's to end, and txguard leaves it to the pool. Agroal does not roll
     * it back, so the next borrower's commit commits it, as without txguard (docs/semantics.md).
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void agroalInManualMode_whatABorrowerLeftUncommittedIsThePoolsToEnd(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, Way.OVER, false)) {
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
            }
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 2);
                c.commit();
            }
            db.assertCommitted(1, 2);
        }
    }

    /**
     * Two-phase commit across two H2 databases through H2's XADataSource, with a DAO nested in each branch: the
     * global transaction commits both databases' work, or neither. (PostgreSQL's prepared transactions are off on
     * this machine's server, max_prepared_transactions = 0, and Agroal does not enlist MariaDB's XADataSource here,
     * with txguard or without: "Connection is closed" as it starts the branch. A single PostgreSQL branch, which
     * Narayana commits in one phase, is below.)
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Way.class, names = {"OVER", "DATABASES_OWN_URL"}) // an XADataSource opens its own connections: no URL to prefix
    void xaAcrossTwoDatabases_aDaoNestsInEachBranch_andBothCommitOrNeither(Way way) throws Exception {
        try (TestDb debits = TestDb.open(Database.H2); TestDb credits = TestDb.open(Database.H2);
             Pool debitPool = new Pool(debits, way, true, "org.h2.jdbcx.JdbcDataSource");
             Pool creditPool = new Pool(credits, way, true, "org.h2.jdbcx.JdbcDataSource")) {
            for (boolean commit : new boolean[] {false, true}) {
                TRANSACTIONS.begin();
                try (Connection debit = debitPool.dataSource.getConnection();
                     Connection credit = creditPool.dataSource.getConnection()) {
                    xaWork(way, debits, debit);
                    xaWork(way, credits, credit);
                }
                if (commit) TRANSACTIONS.commit(); else TRANSACTIONS.rollback();
                Integer[] expected = commit ? new Integer[] {1, 2} : new Integer[0];
                debits.assertCommitted(expected);
                credits.assertCommitted(expected);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Way.class, names = {"OVER", "DATABASES_OWN_URL"})
    void xaOnPostgreSql_aDaoNestsInTheBranch(Way way) throws Exception {
        try (TestDb db = TestDb.open(Database.POSTGRESQL); Pool pool = new Pool(db, way, true, "org.postgresql.xa.PGXADataSource")) {
            for (boolean commit : new boolean[] {false, true}) {
                TRANSACTIONS.begin();
                try (Connection c = pool.dataSource.getConnection()) {
                    xaWork(way, db, c);
                }
                if (commit) TRANSACTIONS.commit(); else TRANSACTIONS.rollback();
                db.assertCommitted(commit ? new Integer[] {1, 2} : new Integer[0]);
            }
        }
    }

    /**
     * The service's row 1, then a DAO's row 2: nested with a guard over the pool; without one the driver refuses the
     * DAO's commit, and its row stays in the branch, which the global transaction then commits or rolls back.
     */
    private static void xaWork(Way way, TestDb db, Connection c) throws SQLException {
        db.insert(c, 1);
        Legacy.Dao dao = new Legacy.Dao(db.table);
        if (way.guardOverHandles()) {
            dao.saveClassic(c, 2);
        } else {
            assertThrows(SQLException.class, () -> dao.saveClassic(c, 2));
        }
    }
}
