package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.TransactionException;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Legacy DAOs inside Hibernate's transactions, through a guarded HikariCP pool (GuardedPool) and over
 * Hibernate's built-in pool: Hibernate alone, under Spring's HibernateTransactionManager, and as the JPA
 * provider under Spring's JpaTransactionManager. Hibernate's commits and rollbacks are those of the
 * application method that opened the session or called the transaction method, never stray; a DAO's
 * begin inside its transaction nests.
 *
 * <p>Written against what the generations share: the driver runs it on Hibernate 5 and Spring 5 (javax),
 * the jakarta module on Hibernate 7 and Spring 7, each with a HibernateGeneration of its own.
 */
class HibernateTransactionsTest {

    private static String insert(TestDb db, int id) {
        return "INSERT INTO " + db.table + " (id) VALUES (" + id + ")";
    }

    /** Hibernate over the pool (pool == null: over Hibernate's built-in pool, with these settings). */
    private static SessionFactory hibernate(TestDb db, GuardedPool pool, String... settings) {
        StandardServiceRegistryBuilder registry = new StandardServiceRegistryBuilder()
                .applySetting("hibernate.dialect", HibernateGeneration.dialect(db.database))
                .applySetting("hibernate.current_session_context_class", HibernateGeneration.SPRING_SESSION_CONTEXT);
        if (pool != null) {
            registry.applySetting("hibernate.connection.datasource", pool);
        } else {
            registry.applySetting("hibernate.connection.url", db.guardedUrl())
                    .applySetting("hibernate.connection.pool_size", "1");
        }
        for (int i = 0; i < settings.length; i += 2) registry.applySetting(settings[i], settings[i + 1]);
        return new MetadataSources(registry.build()).buildMetadata().buildSessionFactory();
    }

    private static void hibernateInsert(Session session, TestDb db, int id) {
        session.createNativeQuery(insert(db, id)).executeUpdate();
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.HibernateGeneration#databases")
    void daoInsideAHibernateTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
             LogCapture log = LogCapture.start();
             SessionFactory hibernate = hibernate(db, pool)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Session session = hibernate.openSession()) {
                Transaction tx = session.beginTransaction();
                session.doWork(c -> dao.saveClassic(c, 1)); // first in the transaction: it nests all the same
                hibernateInsert(session, db, 2);
                tx.rollback();

                tx = session.beginTransaction();
                hibernateInsert(session, db, 1);
                assertThrows(RuntimeException.class, () -> session.doWork(c -> dao.saveClassic(c, 1)));
                hibernateInsert(session, db, 3);
                tx.commit();
            }
            db.assertCommitted(1, 3);
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    /**
     * Hibernate's built-in pool turns autocommit off as it hands a connection out, and on as it takes it back:
     * the pool's settings, not transactions. Hibernate's own begin is a setAutoCommit(false) all the same, so a
     * DAO whose begin comes first in a Hibernate transaction nests in it, in every transaction of the session.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.HibernateGeneration#databases")
    void overHibernatesBuiltInPool_aDaoFirstInATransactionNests(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start();
             SessionFactory hibernate = hibernate(db, null); Session session = hibernate.openSession()) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Transaction tx = session.beginTransaction();
            hibernateInsert(session, db, 1);
            tx.commit();

            tx = session.beginTransaction();
            session.doWork(c -> dao.saveClassic(c, 2));
            hibernateInsert(session, db, 3);
            tx.rollback();
            db.assertCommitted(1);
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    /**
     * The documented limit, with Hibernate: over a pool in manual mode (autoCommit=false) with
     * {@code hibernate.connection.provider_disables_autocommit}, Hibernate begins without a JDBC call, as
     * Spring does over such a pool, so txguard cannot see its transaction. A DAO whose begin comes first in
     * it is the outermost scope: its commit is real, and its restore turns autocommit on, as in plain JDBC.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.HibernateGeneration#databases")
    void overAManualModePoolThatHibernateIsToldOf_aDaoFirstInATransactionCommits_theLimitationIsAsDocumented(
            Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(false);
             SessionFactory hibernate = hibernate(db, pool, "hibernate.connection.provider_disables_autocommit", "true");
             Session session = hibernate.openSession()) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            Transaction tx = session.beginTransaction();
            session.doWork(c -> dao.saveClassic(c, 1));
            try {
                tx.rollback();
            } catch (TransactionException refused) {
                // PostgreSQL's driver refuses a rollback with autocommit on, with txguard as without it
            }
            db.assertCommitted(1);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.it.HibernateGeneration#databases")
    void daoInsideSpringsHibernateTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
             LogCapture log = LogCapture.start();
             SessionFactory hibernate = hibernate(db, pool)) {
            TransactionTemplate required = new TransactionTemplate(HibernateGeneration.springTransactionManager(hibernate, pool));
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(ServiceFailure.class, () -> required.executeWithoutResult(status -> {
                Session session = hibernate.getCurrentSession();
                hibernateInsert(session, db, 1);
                session.doWork(c -> dao.saveClassic(c, 2));
                throw new ServiceFailure();
            }));
            required.executeWithoutResult(status -> {
                hibernate.getCurrentSession().doWork(c -> dao.saveClassic(c, 3));
                status.setRollbackOnly();
            });
            db.assertCommitted();
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    /**
     * JPA, as Spring Data repositories run it: Spring's JpaTransactionManager over Hibernate's
     * EntityManagerFactory, which exposes the transaction's JDBC connection to DataSourceUtils, so a legacy DAO
     * that takes the connection from there runs inside the JPA transaction and nests in it.
     */
    @ParameterizedTest
    @MethodSource("dev.txguard.it.HibernateGeneration#databases")
    void daoInsideSpringsJpaTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean factory =
                    new org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean();
            factory.setDataSource(pool);
            factory.setPackagesToScan(HibernateTransactionsTest.class.getPackageName() + ".noentities");
            factory.setJpaVendorAdapter(new org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter());
            factory.setJpaPropertyMap(java.util.Map.of("hibernate.dialect", HibernateGeneration.dialect(database)));
            factory.afterPropertiesSet();
            var jpa = factory.getObject(); // javax or jakarta, by generation
            try {
                org.springframework.orm.jpa.JpaTransactionManager manager = new org.springframework.orm.jpa.JpaTransactionManager(jpa);
                manager.setDataSource(pool);
                TransactionTemplate required = new TransactionTemplate(manager);
                Legacy.Dao dao = new Legacy.Dao(db.table);
                assertThrows(ServiceFailure.class, () -> required.executeWithoutResult(status -> {
                    org.springframework.orm.jpa.EntityManagerFactoryUtils.getTransactionalEntityManager(jpa)
                            .createNativeQuery(insert(db, 1)).executeUpdate();
                    legacyDaoThroughSpring(pool, dao, 2);
                    try {
                        db.assertCommitted(); // the DAO's commit only released its savepoint
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                    throw new ServiceFailure();
                }));
                db.assertCommitted();
                required.executeWithoutResult(status -> {
                    org.springframework.orm.jpa.EntityManagerFactoryUtils.getTransactionalEntityManager(jpa)
                            .createNativeQuery(insert(db, 3)).executeUpdate();
                    legacyDaoThroughSpring(pool, dao, 4);
                });
                db.assertCommitted(3, 4);
                assertEquals(0, log.count("stray rollback"), log.all());
            } finally {
                jpa.close();
            }
        }
    }

    private static void legacyDaoThroughSpring(javax.sql.DataSource pool, Legacy.Dao dao, int id) {
        java.sql.Connection c = DataSourceUtils.getConnection(pool);
        try {
            dao.saveClassic(c, id);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        } finally {
            DataSourceUtils.releaseConnection(c, pool);
        }
    }
}
