package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import org.apache.ibatis.annotations.Insert;
import org.apache.ibatis.annotations.Param;
import org.apache.ibatis.mapping.Environment;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;
import org.apache.ibatis.session.SqlSessionFactoryBuilder;
import org.apache.ibatis.transaction.TransactionFactory;
import org.apache.ibatis.transaction.jdbc.JdbcTransactionFactory;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.Transaction;
import org.hibernate.TransactionException;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mybatis.spring.SqlSessionTemplate;
import org.mybatis.spring.transaction.SpringManagedTransactionFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.orm.hibernate5.HibernateTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Legacy DAOs inside the transactions of the data-access frameworks applications run, and those
 * frameworks' own transaction calls, through a pool over a {@code jdbc:txguard:} URL: MyBatis (alone and
 * through MyBatis-Spring), jOOQ, JDBI, Hibernate (alone, under Spring's HibernateTransactionManager, and as
 * the JPA provider under Spring's JpaTransactionManager).
 * A framework's commit and rollback are made for the application method that opened its session or called
 * its transaction method, so they are that method's, never stray; a DAO's begin inside the framework's
 * transaction nests.
 */
class FrameworkTransactionsTest {

    /** A MyBatis mapper, as applications declare them. */
    interface RowMapper {
        @Insert("INSERT INTO ${table} (id) VALUES (#{id})")
        void insert(@Param("table") String table, @Param("id") int id);
    }

    private static String insert(TestDb db, int id) {
        return "INSERT INTO " + db.table + " (id) VALUES (" + id + ")";
    }

    // ------------------------------------------------------------------------------------------- MyBatis

    private static SqlSessionFactory myBatis(HikariDataSource pool, TransactionFactory transactions) {
        org.apache.ibatis.session.Configuration configuration =
                new org.apache.ibatis.session.Configuration(new Environment("test", transactions, pool));
        configuration.addMapper(RowMapper.class);
        return new SqlSessionFactoryBuilder().build(configuration);
    }

    /** A session rolled back and then used again: plain MyBatis, and before txguard knew MyBatis, refused. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void myBatisSessionRolledBackThenUsedAgain_commitsTheLaterWork(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            SqlSessionFactory factory = myBatis(pool, new JdbcTransactionFactory());
            try (SqlSession session = factory.openSession()) {
                RowMapper rows = session.getMapper(RowMapper.class);
                rows.insert(db.table, 1);
                session.rollback();
                rows.insert(db.table, 2);
                session.commit();
                rows.insert(db.table, 3);
                session.rollback();
                rows.insert(db.table, 4);
                session.commit();
            }
            db.assertCommitted(2, 4);
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoOnAMyBatisSessionsConnection_theServiceRollsBack_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true)) {
            SqlSessionFactory factory = myBatis(pool, new JdbcTransactionFactory());
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (SqlSession session = factory.openSession()) {
                RowMapper rows = session.getMapper(RowMapper.class);
                rows.insert(db.table, 1);
                dao.saveClassic(session.getConnection(), 2); // without txguard its commit and restore commit row 1 too
                rows.insert(db.table, 3);
                session.rollback();
            }
            db.assertCommitted();

            try (SqlSession session = factory.openSession()) {
                RowMapper rows = session.getMapper(RowMapper.class);
                rows.insert(db.table, 1);
                // a duplicate key: on PostgreSQL it aborts the transaction, and only the DAO's savepoint saves it
                assertThrows(SQLException.class, () -> dao.saveClassic(session.getConnection(), 1));
                rows.insert(db.table, 3);
                session.commit();
            }
            db.assertCommitted(1, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void myBatisThroughSpring_withADaoInsideSpringsTransaction_theServiceFails_nothingCommitted(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            SqlSessionTemplate template = new SqlSessionTemplate(myBatis(pool, new SpringManagedTransactionFactory()));
            TransactionTemplate required = new TransactionTemplate(new DataSourceTransactionManager(pool));
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(ServiceFailure.class, () -> required.executeWithoutResult(status -> {
                template.getMapper(RowMapper.class).insert(db.table, 1);
                try {
                    dao.saveClassic(DataSourceUtils.getConnection(pool), 2);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
                throw new ServiceFailure();
            }));
            db.assertCommitted();
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    // ------------------------------------------------------------------------------------------- jOOQ

    private static SQLDialect jooqDialect(Database database) {
        switch (database) {
            case H2: return SQLDialect.H2;
            case POSTGRESQL: return SQLDialect.POSTGRES;
            case MARIADB: return SQLDialect.MARIADB;
            case SQLITE: return SQLDialect.SQLITE;
            case DERBY: return SQLDialect.DERBY;
            default: throw new IllegalArgumentException(database.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoInsideAJooqTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            DSLContext jooq = DSL.using(pool, jooqDialect(database));
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(ServiceFailure.class, () -> jooq.transaction(tx -> {
                tx.dsl().execute(insert(db, 1));
                tx.dsl().connection(c -> dao.saveClassic(c, 2));
                throw new ServiceFailure();
            }));
            db.assertCommitted();
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    /** jOOQ nests its own transactions with savepoints of its own; txguard's sit beside them. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void jooqsNestedTransactionAndADao_eachRollsBackAlone(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true)) {
            DSLContext jooq = DSL.using(pool, jooqDialect(database));
            Legacy.Dao dao = new Legacy.Dao(db.table);
            jooq.transaction(tx -> {
                tx.dsl().execute(insert(db, 1));
                assertThrows(ServiceFailure.class, () -> tx.dsl().transaction(inner -> {
                    inner.dsl().execute(insert(db, 2));
                    throw new ServiceFailure();
                }));
                assertThrows(DataAccessException.class, () -> tx.dsl().connection(c -> dao.saveClassic(c, 1)));
                tx.dsl().connection(c -> dao.saveClassic(c, 3));
                tx.dsl().execute(insert(db, 4));
            });
            db.assertCommitted(1, 3, 4);
        }
    }

    // ------------------------------------------------------------------------------------------- JDBI

    @ParameterizedTest
    @EnumSource(Database.class)
    void daoInsideAJdbiTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            Jdbi jdbi = Jdbi.create(pool);
            Legacy.Dao dao = new Legacy.Dao(db.table);
            assertThrows(ServiceFailure.class, () -> jdbi.useTransaction(handle -> {
                handle.execute(insert(db, 1));
                dao.saveClassic(handle.getConnection(), 2);
                throw new ServiceFailure();
            }));
            db.assertCommitted();

            try (Handle handle = jdbi.open()) {
                handle.begin();
                handle.execute(insert(db, 1));
                handle.rollback();
                handle.begin();
                handle.execute(insert(db, 2));
                handle.commit();
            }
            db.assertCommitted(2);
            assertEquals(0, log.count("stray rollback"), log.all());
        }
    }

    // ------------------------------------------------------------------------------------------- Hibernate

    /** By Database's order; Hibernate 5 has no SQLite dialect, so its tests leave SQLite out. */
    private static final String[] HIBERNATE_DIALECTS = {
        "org.hibernate.dialect.H2Dialect", "org.hibernate.dialect.PostgreSQL10Dialect", "org.hibernate.dialect.MariaDB103Dialect",
        null, "org.hibernate.dialect.DerbyTenSevenDialect",
    };

    /** Hibernate over the pool (pool == null: over Hibernate's built-in pool, with these settings). */
    private static SessionFactory hibernate(TestDb db, HikariDataSource pool, String... settings) {
        StandardServiceRegistryBuilder registry = new StandardServiceRegistryBuilder()
                .applySetting("hibernate.dialect", HIBERNATE_DIALECTS[db.database.ordinal()])
                .applySetting("hibernate.current_session_context_class",
                        "org.springframework.orm.hibernate5.SpringSessionContext");
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
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void daoInsideAHibernateTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
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
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
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
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void overAManualModePoolThatHibernateIsToldOf_aDaoFirstInATransactionCommits_theLimitationIsAsDocumented(
            Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(false);
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
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void daoInsideSpringsHibernateTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start();
             SessionFactory hibernate = hibernate(db, pool)) {
            HibernateTransactionManager manager = new HibernateTransactionManager(hibernate);
            manager.setDataSource(pool);
            TransactionTemplate required = new TransactionTemplate(manager);
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
    @EnumSource(value = Database.class, mode = EnumSource.Mode.EXCLUDE, names = "SQLITE")
    void daoInsideSpringsJpaTransaction_theServiceFails_nothingCommitted(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); HikariDataSource pool = db.guardedPool(true);
             LogCapture log = LogCapture.start()) {
            org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean factory =
                    new org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean();
            factory.setDataSource(pool);
            factory.setPackagesToScan(FrameworkTransactionsTest.class.getPackageName() + ".noentities");
            factory.setJpaVendorAdapter(new org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter());
            factory.setJpaPropertyMap(java.util.Map.of("hibernate.dialect", HIBERNATE_DIALECTS[database.ordinal()]));
            factory.afterPropertiesSet();
            javax.persistence.EntityManagerFactory jpa = factory.getObject();
            try {
                org.springframework.orm.jpa.JpaTransactionManager manager = new org.springframework.orm.jpa.JpaTransactionManager(jpa);
                manager.setDataSource(pool);
                TransactionTemplate required = new TransactionTemplate(manager);
                Legacy.Dao dao = new Legacy.Dao(db.table);
                assertThrows(ServiceFailure.class, () -> required.executeWithoutResult(status -> {
                    javax.persistence.EntityManager em =
                            org.springframework.orm.jpa.EntityManagerFactoryUtils.getTransactionalEntityManager(jpa);
                    em.createNativeQuery(insert(db, 1)).executeUpdate();
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
