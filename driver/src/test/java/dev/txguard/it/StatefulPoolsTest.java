package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.alibaba.druid.pool.DruidDataSource;
import dev.txguard.TxGuardDataSource;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pools that decide from their own reading of a connection's autocommit whether to pass a call on: Druid
 * keeps a record of it, drops a setAutoCommit that matches the record and a rollback() while the record
 * says autocommit is on; Agroal drops a setAutoCommit that matches the connection's getAutoCommit(), which
 * txguard reports false inside any scope. So txguard goes over them ({@code new TxGuardDataSource(pool)}),
 * and under them (a {@code jdbc:txguard:} URL as theirs) nesting does not hold. Also run under the agent,
 * which leaves both as they are (what it does with the database's own URL: StatefulPoolsUnderAgent).
 */
class StatefulPoolsTest {

    enum Kind { DRUID, AGROAL }

    /** One pool, one connection. */
    static final class Pool implements AutoCloseable {
        final DataSource dataSource;
        private final AutoCloseable closer;

        Pool(Kind kind, String url, boolean autoCommit) throws SQLException {
            if (kind == Kind.DRUID) {
                DruidDataSource druid = new DruidDataSource();
                druid.setUrl(url);
                if (url.startsWith("jdbc:txguard:")) druid.setDriverClassName(dev.txguard.TxGuardDriver.class.getName());
                druid.setMaxActive(1);
                druid.setDefaultAutoCommit(autoCommit);
                dataSource = druid;
                closer = druid;
            } else {
                AgroalDataSource agroal = AgroalDataSource.from(new AgroalDataSourceConfigurationSupplier()
                        .connectionPoolConfiguration(pool -> pool.maxSize(1)
                                .connectionFactoryConfiguration(factory -> factory.jdbcUrl(url).autoCommit(autoCommit))));
                dataSource = agroal;
                closer = agroal;
            }
        }

        @Override
        public void close() throws Exception {
            closer.close();
        }
    }

    static Stream<Arguments> everyPoolAndDatabase() {
        List<Arguments> all = new ArrayList<>();
        for (Database database : Database.values()) {
            for (Kind kind : Kind.values()) all.add(Arguments.of(database, kind));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyPoolAndDatabase")
    void txguardOverThePool_aDaoNestsAndTheNextBorrowerStartsClean(Database database, Kind kind) throws Exception {
        for (boolean autoCommit : new boolean[] {true, false}) {
            try (TestDb db = TestDb.open(database); Pool pool = new Pool(kind, db.rawUrl, autoCommit)) {
                TxGuardDataSource guarded = new TxGuardDataSource(pool.dataSource);
                Legacy.Dao dao = new Legacy.Dao(db.table);
                try (Connection c = guarded.getConnection()) {
                    assertThrows(ServiceFailure.class, () -> PoolKindsTest.transfer(db, c, dao, true));
                }
                db.assertCommitted();
                try (Connection c = guarded.getConnection()) {
                    c.setAutoCommit(false);
                    db.insert(c, 3);
                    dao.saveNeverRestoring(c, 4);
                } // handed back with scopes open
                db.assertCommitted();
                try (Connection c = guarded.getConnection()) {
                    assertEquals(autoCommit, c.getAutoCommit(), kind + "'s autocommit setting");
                    PoolKindsTest.transfer(db, c, dao, false);
                }
                db.assertCommitted(1, 2);
            }
        }
    }

    /**
     * The documented limit: under Druid a DAO's restore turns Druid's record of autocommit on, so Druid drops
     * the service's rollback; under Agroal the DAO's begin is dropped, so its commit is the service's (and on
     * PostgreSQL the service's rollback then fails, autocommit being on again). Either way the DAO's work and
     * the service's are committed, as without txguard.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("everyPoolAndDatabase")
    void txguardUnderThePool_theServicesRollbackUndoesNothing_theLimitationIsAsDocumented(Database database, Kind kind)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(kind, db.guardedUrl(), true)) {
            Legacy.Dao dao = new Legacy.Dao(db.table);
            try (Connection c = pool.dataSource.getConnection()) {
                assertThrows(Exception.class, () -> PoolKindsTest.transfer(db, c, dao, true));
            }
            db.assertCommitted(1, 2);
        }
    }

    /**
     * Druid in manual mode (autoCommit=false) sets up its connections through its own connection class: before
     * txguard let a pool's connection class pass its caller's call on, that was taken for a begin by nobody,
     * and the return put autocommit on where Druid believed it off; on PostgreSQL the next borrower's commit
     * failed. (Agroal does not roll back what a borrower hands back, with txguard or without.)
     */
    @ParameterizedTest
    @EnumSource(Database.class)
    void txguardUnderDruidInManualMode_aConnectionHandedBackUncommitted_theNextBorrowerCommits(Database database)
            throws Exception {
        try (TestDb db = TestDb.open(database); Pool pool = new Pool(Kind.DRUID, db.guardedUrl(), false)) {
            try (Connection c = pool.dataSource.getConnection()) {
                db.insert(c, 1);
            } // handed back uncommitted: Druid rolls it back
            try (Connection c = pool.dataSource.getConnection()) {
                assertEquals(false, c.getAutoCommit(), "Druid's autocommit setting");
                db.insert(c, 2);
                c.commit();
            }
            db.assertCommitted(2);
        }
    }
}
