package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atomikos.icatch.jta.UserTransactionManager;
import com.atomikos.jdbc.AtomikosDataSourceBean;
import com.atomikos.jdbc.AtomikosNonXADataSourceBean;
import com.atomikos.jdbc.internal.AbstractDataSourceBean;
import dev.txguard.TxGuardDataSource;
import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import javax.sql.XADataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Atomikos, the transaction manager Spring Boot applications embed, with its pool over each database's XA data
 * source. Unlike Agroal (JtaTest), it hands a connection out in autocommit mode and enlists it in the global
 * transaction at its first statement, so txguard over its handles does not see the transaction begin: at a DAO's
 * begin txguard reads the autocommit again, finds the global transaction, and nests the DAO in it as a savepoint.
 * Without txguard over the pool, Atomikos refuses the DAO's commit, as JTA requires. (Under the agent, which guards
 * Atomikos's handles and leaves the connections beneath them alone, both ways have txguard over the pool.)
 */
class AtomikosTest {

    private static final AtomicInteger RESOURCES = new AtomicInteger();
    private static UserTransactionManager transactions;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("com.atomikos.icatch.log_base_dir", "target/atomikos-" + ProcessHandle.current().pid());
        System.setProperty("com.atomikos.icatch.output_dir", "target/atomikos-" + ProcessHandle.current().pid());
        transactions = new UserTransactionManager();
        transactions.init();
    }

    @AfterAll
    static void stop() {
        transactions.close();
    }

    /** A failed test must not leave its global transaction on the thread for the next one. */
    @AfterEach
    void noTransactionLeftOnTheThread() throws Exception {
        if (transactions.getTransaction() != null) transactions.rollback();
    }

    /**
     * An Atomikos pool over the database's XA data source, and what the application takes connections from. On
     * MariaDB, Atomikos's pool for plain connections, which it enlists as the one resource that is not XA: over
     * MariaDB's XA data source Atomikos fails to resume a branch as a second handle joins the global transaction
     * (XAER_INVAL), with txguard or without, and leaves the connection in that branch.
     */
    private static final class Pool implements AutoCloseable {
        final DataSource dataSource;
        /** A guard is over the pool's handles: the test's own, or the agent's. */
        final boolean txguardOver;
        private final AbstractDataSourceBean atomikos;

        Pool(TestDb db, boolean txguardOver) throws Exception {
            if (db.database == Database.MARIADB) {
                AtomikosNonXADataSourceBean plain = new AtomikosNonXADataSourceBean();
                plain.setUrl(db.rawUrl);
                plain.setDriverClassName(org.mariadb.jdbc.Driver.class.getName());
                plain.setLocalTransactionMode(true); // outside global transactions too, as with an XA data source
                atomikos = plain;
            } else {
                AtomikosDataSourceBean xa = new AtomikosDataSourceBean();
                xa.setXaDataSource(db.database.ownDataSource(db.rawUrl, XADataSource.class));
                atomikos = xa;
            }
            atomikos.setUniqueResourceName("txguard-" + RESOURCES.incrementAndGet());
            atomikos.setMaxPoolSize(1);
            atomikos.init();
            dataSource = txguardOver ? new TxGuardDataSource(atomikos) : atomikos;
            this.txguardOver = txguardOver || EngineProbe.agentGuardsConnections();
        }

        @Override
        public void close() {
            atomikos.close();
        }
    }

    /** The databases with an XA data source that the tests' drivers provide; each with txguard over the pool or not. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> databasesAndWays() {
        return java.util.Arrays.stream(Database.samplesDatabases()).flatMap(database -> java.util.stream.Stream.of(
                org.junit.jupiter.params.provider.Arguments.of(database, true),
                org.junit.jupiter.params.provider.Arguments.of(database, false)));
    }

    @ParameterizedTest(name = "{0}, txguard over the pool: {1}")
    @MethodSource("databasesAndWays")
    void theTransactionManagerCommitsAndRollsBackWhatItsConnectionsDid(Database database, boolean txguardOver)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, txguardOver)) {
            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
            }
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 2);
            }
            db.assertCommitted();
            transactions.commit();
            db.assertCommitted(1, 2);

            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 3);
            }
            transactions.rollback();
            db.assertCommitted(1, 2);
        }
    }

    @ParameterizedTest(name = "{0}, txguard over the pool: {1}")
    @MethodSource("databasesAndWays")
    void aDaoInsideAGlobalTransaction_nestsInItWhenTxguardIsOverThePool(Database database, boolean txguardOver)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, txguardOver)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            if (!pool.txguardOver) {
                transactions.begin();
                try (Connection c = pool.dataSource.getConnection()) {
                    db.insert(c, 1);
                    SQLException refused = assertThrows(SQLException.class, () -> dao.saveClassic(c, 2));
                    assertTrue(refused.getMessage().contains("global transaction"), refused.getMessage());
                }
                transactions.rollback();
                db.assertCommitted();
                return;
            }
            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                assertTrue(c.getAutoCommit(), "Atomikos enlists the connection at its first statement, not before");
                db.insert(c, 1);
                dao.saveClassic(c, 2);
                assertFalse(c.getAutoCommit(), "the global transaction is open");
            }
            transactions.rollback();
            db.assertCommitted();

            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 3);
                dao.saveClassic(c, 4);
                dao.saveRestoringSaved(c, 5);
            }
            transactions.commit();
            db.assertCommitted(3, 4, 5);
        }
    }

    /**
     * A DAO that fails after it wrote rolls back to its savepoint, the service carries on, and the global
     * transaction commits the rest: on PostgreSQL too, where the failed statement would otherwise have aborted the
     * whole transaction.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void aFailingDaoInsideAGlobalTransaction_undoesItsOwnWorkOnly(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, true)) {
            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                assertThrows(SQLException.class, () -> new Legacy.Dao(db.table).saveClassic(c, 3, 1)); // 1: a duplicate key
                db.insert(c, 2);
            }
            transactions.commit();
            db.assertCommitted(1, 2);
        }
    }

    /**
     * Two-phase commit across two H2 databases, with a DAO nested in each branch and a failing one undoing only its
     * own row: the global transaction commits both databases' work, or neither. (This machine's PostgreSQL prepares
     * no transactions, max_prepared_transactions = 0, and Atomikos over MariaDB's XA data source fails as above.)
     */
    @Test
    void xaAcrossTwoDatabases_aDaoNestsInEachBranch_andBothCommitOrNeither() throws Exception {
        try (TestDb debits = TestDb.open(Database.H2); TestDb credits = TestDb.open(Database.H2);
             Pool debitPool = new Pool(debits, true); Pool creditPool = new Pool(credits, true)) {
            for (boolean commit : new boolean[] {false, true}) {
                transactions.begin();
                try (Connection debit = debitPool.dataSource.getConnection();
                     Connection credit = creditPool.dataSource.getConnection()) {
                    for (TestDb db : new TestDb[] {debits, credits}) {
                        Connection c = db == debits ? debit : credit;
                        Legacy.Dao dao = new Legacy.Dao(db.table);
                        db.insert(c, 1);
                        dao.saveClassic(c, 2);
                        assertThrows(SQLException.class, () -> dao.saveClassic(c, 3, 1)); // 1: a duplicate key
                    }
                }
                if (commit) transactions.commit(); else transactions.rollback();
                Integer[] expected = commit ? new Integer[] {1, 2} : new Integer[0];
                debits.assertCommitted(expected);
                credits.assertCommitted(expected);
            }
        }
    }

    /**
     * Derby's savepoints go through JDBC's Savepoint API (docs/semantics.md), which Atomikos refuses inside a global
     * transaction, so there a nested DAO cannot run: the error names the nested scope whose savepoint it is, with
     * Atomikos's refusal as its cause, and nothing of the DAO reaches the global transaction, which commits the rest.
     * Without txguard the DAO's insert
     * runs, Atomikos refuses its commit and its rollback, and the global transaction commits the row of a DAO that
     * failed.
     */
    @ParameterizedTest(name = "txguard over the pool: {0}")
    @ValueSource(booleans = {true, false})
    void onDerby_aDaoInsideAGlobalTransactionIsRefusedItsSavepoint(boolean txguardOver) throws Exception {
        try (TestDb db = TestDb.open(Database.DERBY); Pool pool = new Pool(db, txguardOver)) {
            transactions.begin();
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
                SQLException refused = assertThrows(SQLException.class, () -> new Legacy.Dao(db.table).saveClassic(c, 2));
                if (pool.txguardOver) {
                    assertTrue(refused.getMessage().startsWith("txguard: could not set the savepoint of the nested scope"
                            + " begun at dev.txguard.it.Legacy$Dao.saveClassic"), refused.getMessage());
                    assertTrue(refused.getMessage().endsWith("its own message is this exception's cause"), refused.getMessage());
                    assertTrue(refused.getCause().getMessage().contains("setSavepoint"), "Atomikos's own words: " + refused.getCause());
                } else {
                    assertTrue(refused.getMessage().contains("global transaction"), refused.getMessage());
                }
                db.insert(c, 3);
            }
            transactions.commit();
            if (pool.txguardOver) db.assertCommitted(1, 3); else db.assertCommitted(1, 2, 3);
        }
    }

    /** Outside a global transaction the handle is a plain connection: a service's rollback undoes its nested DAO. */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.Database#samplesDatabases")
    void outsideAGlobalTransaction_aServicesRollbackUndoesItsNestedDao(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(db, true);
             Connection c = pool.dataSource.getConnection()) {
            db.serviceRollsBackItsNestedDao(c);
        }
    }
}
