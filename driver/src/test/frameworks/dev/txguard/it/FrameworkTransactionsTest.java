package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txguard.internal.EngineProbe;
import java.sql.SQLException;
import org.apache.ibatis.annotations.Insert;
import org.apache.ibatis.annotations.Param;
import org.apache.ibatis.mapping.Environment;
import org.apache.ibatis.session.SqlSession;
import org.apache.ibatis.session.SqlSessionFactory;
import org.apache.ibatis.session.SqlSessionFactoryBuilder;
import org.apache.ibatis.transaction.TransactionFactory;
import org.apache.ibatis.transaction.jdbc.JdbcTransactionFactory;
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
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Legacy DAOs inside the transactions of the data-access frameworks applications run, and those
 * frameworks' own transaction calls, through a guarded HikariCP pool (GuardedPool): MyBatis (alone and
 * through MyBatis-Spring), jOOQ and JDBI (Hibernate and JPA: HibernateTransactionsTest).
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

    private static SqlSessionFactory myBatis(GuardedPool pool, TransactionFactory transactions) {
        org.apache.ibatis.session.Configuration configuration =
                new org.apache.ibatis.session.Configuration(new Environment("test", transactions, pool));
        configuration.addMapper(RowMapper.class);
        return new SqlSessionFactoryBuilder().build(configuration);
    }

    /** A session rolled back and then used again: plain MyBatis, and before txguard knew MyBatis, refused. */
    @ParameterizedTest
    @EnumSource(Database.class)
    void myBatisSessionRolledBackThenUsedAgain_commitsTheLaterWork(Database database) throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
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
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true)) {
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

    /**
     * HikariCP 6 and later remember the autocommit value their handle was last given and answer getAutoCommit()
     * from it. Beneath such a pool, with the driver alone, a DAO's setAutoCommit(true) in a nested scope leaves the
     * handle reporting autocommit on while MyBatis's transaction is still open, and MyBatis, which commits only
     * when autocommit is off, skips its commit: the pool's return rolls the work back, with a warning. The documented
     * limit, and why README.md puts txguard over such a pool; the agent makes the handle remember what the
     * connection beneath reports (HikariAutoCommitAdvice), and then MyBatis commits, as over HikariCP 5.
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void beneathHikari_aMyBatisCommitAfterANestedDao_dependsOnWhetherThePoolRemembersAutoCommit(Database database)
            throws Exception {
        EngineProbe.forgetTheRememberedAutoCommitWarning();
        try (TestDb db = TestDb.open(database); LogCapture log = LogCapture.start();
             GuardedPool pool = new GuardedPool(db, true, false)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (SqlSession session = myBatis(pool, new JdbcTransactionFactory()).openSession()) {
                session.getMapper(RowMapper.class).insert(db.table, 1);
                dao.saveClassic(session.getConnection(), 2);
                session.commit();
            }
            if (GuardedPool.REMEMBERS_AUTO_COMMIT && !EngineProbe.agentGuardsConnections()) {
                db.assertCommitted();
                assertEquals(1, log.count("returned to its pool with 1 open scope(s) and uncommitted work"), log.all());
                assertEquals(1, log.count("HikariCP " + GuardedPool.HIKARI_VERSION + " opens this connection with txguard"
                        + " beneath it"), log.all()); // once, for the pool's two connections
            } else {
                db.assertCommitted(1, 2);
                assertEquals(0, log.count("returned to its pool"), log.all());
                assertEquals(0, log.count("opens this connection with txguard beneath it"), log.all());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void myBatisThroughSpring_withADaoInsideSpringsTransaction_theServiceFails_nothingCommitted(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
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
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
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
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true)) {
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
        try (TestDb db = TestDb.open(database); GuardedPool pool = db.guardedPool(true);
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
}
