package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Legacy DAOs called inside transactions that Spring's {@code DataSourceTransactionManager} manages,
 * through a guarded HikariCP pool (GuardedPool): the DAO's begin nests in Spring's transaction,
 * and Spring's own commit and rollback are the transaction owner's, never stray.
 */
class SpringTransactionsTest {

    interface Work {
        void run(Connection c, TransactionStatus status) throws SQLException;
    }

    /** A pool and Spring's transaction templates over it, as an application configures them. */
    private static final class Spring implements AutoCloseable {
        final GuardedPool pool;
        final TransactionTemplate required;
        final TransactionTemplate nested;

        Spring(TestDb db) {
            this(db, true);
        }

        Spring(TestDb db, boolean poolAutoCommit) {
            pool = db.guardedPool(poolAutoCommit);
            DataSourceTransactionManager manager = new DataSourceTransactionManager(pool);
            required = new TransactionTemplate(manager);
            nested = new TransactionTemplate(manager);
            nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
        }

        /** Runs the work on the connection of the transaction Spring has open on this thread. */
        void inTransaction(TransactionTemplate template, Work work) {
            template.executeWithoutResult(status -> {
                try {
                    work.run(DataSourceUtils.getConnection(pool), status);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoInsideSpringsTransaction_theServiceFailsAfterIt_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db); LogCapture log = LogCapture.start()) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(ServiceFailure.class, () -> spring.inTransaction(spring.required, (c, status) -> {
                db.insert(c, 1);
                dao.saveClassic(c, 2); // its commit releases a savepoint: nothing is committed yet
                throw new ServiceFailure();
            }));
            db.assertCommitted();
            assertEquals(0, log.count("stray rollback"), log.all());

            spring.inTransaction(spring.required, (c, status) -> {
                db.insert(c, 1);
                dao.saveClassic(c, 2);
                db.insert(c, 3);
            });
            db.assertCommitted(1, 2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoFailsInsideSpringsTransaction_theServiceCarriesOn(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            spring.inTransaction(spring.required, (c, status) -> {
                db.insert(c, 1);
                // a duplicate key: on PostgreSQL it aborts the transaction, and only the DAO's savepoint saves it
                assertThrows(SQLException.class, () -> dao.saveClassic(c, 1));
                db.insert(c, 3);
            });
            db.assertCommitted(1, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void springRollsBackARollbackOnlyTransaction_asItsOwner(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db); LogCapture log = LogCapture.start()) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            spring.inTransaction(spring.required, (c, status) -> {
                db.insert(c, 1);
                dao.saveClassic(c, 2);
                status.setRollbackOnly();
            });
            db.assertCommitted();
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    /**
     * The documented limit: over a pool in manual mode (autoCommit=false) Spring begins its transaction
     * without calling setAutoCommit(false), so txguard cannot see it. A DAO whose begin comes first in it is
     * then the outermost scope, as in plain JDBC: its commit is real, and its restore turns autocommit on.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void overAManualModePool_aDaoBeginningFirstInSpringsTransactionCommits_theLimitationIsAsDocumented(
            Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db, false)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(RuntimeException.class, () -> spring.inTransaction(spring.required, (c, status) -> {
                dao.saveClassic(c, 2);
                throw new ServiceFailure();
            }));
            db.assertCommitted(2);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void springNestedPropagationAroundALegacyDao_rollsBackAlone(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            spring.inTransaction(spring.required, (c, status) -> {
                db.insert(c, 1);
                assertThrows(ServiceFailure.class, () -> spring.inTransaction(spring.nested, (inner, innerStatus) -> {
                    dao.saveClassic(inner, 2);
                    throw new ServiceFailure();
                }));
                spring.inTransaction(spring.nested, (inner, innerStatus) -> dao.saveClassic(inner, 3));
            });
            db.assertCommitted(1, 3);
        }
    }

    /** A service whose transactions are declared with {@code @Transactional}, calling a legacy DAO. */
    interface TransferService {
        void transfer(boolean failAfterTheDao) throws SQLException;
    }

    static final class AnnotatedTransferService implements TransferService {
        private final TestDb db;
        private final javax.sql.DataSource dataSource;
        private final Legacy.Dao dao;

        AnnotatedTransferService(TestDb db, javax.sql.DataSource dataSource) {
            this.db = db;
            this.dataSource = dataSource;
            this.dao = new Legacy.Dao(db.table);
        }

        @Override
        @Transactional
        public void transfer(boolean failAfterTheDao) throws SQLException {
            Connection c = DataSourceUtils.getConnection(dataSource);
            db.insert(c, 1);
            dao.saveClassic(c, 2);
            if (failAfterTheDao) throw new ServiceFailure();
        }
    }

    /** The proxy Spring's @EnableTransactionManagement puts around an annotated bean. */
    private static TransferService transactional(Spring spring, TransferService target) {
        ProxyFactory proxy = new ProxyFactory(target);
        proxy.addInterface(TransferService.class);
        proxy.addAdvice(new TransactionInterceptor(new DataSourceTransactionManager(spring.pool),
                new AnnotationTransactionAttributeSource()));
        return (TransferService) proxy.getProxy();
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoInsideATransactionalMethod_theMethodFailsAfterIt_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); Spring spring = new Spring(db); LogCapture log = LogCapture.start()) {
            TransferService service = transactional(spring, new AnnotatedTransferService(db, spring.pool));
            assertThrows(ServiceFailure.class, () -> service.transfer(true));
            db.assertCommitted();
            service.transfer(false);
            db.assertCommitted(1, 2);
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }
}
