package dev.txguard.it;

import java.util.Arrays;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.hibernate.SessionFactory;
import org.springframework.orm.jpa.hibernate.HibernateTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * What HibernateTransactionsTest needs that differs between generations: this is Hibernate 7 with Spring 7
 * (jakarta), in place of the driver's Hibernate 5 one. Spring 7 moved its native Hibernate support to
 * {@code orm.jpa.hibernate}; Hibernate 7 names its dialects without versions and keeps SQLite's and Derby's
 * in its community module.
 */
final class HibernateGeneration {

    private HibernateGeneration() {
    }

    /** By Database's order. */
    private static final String[] DIALECTS = {
        "org.hibernate.dialect.H2Dialect", "org.hibernate.dialect.PostgreSQLDialect", "org.hibernate.dialect.MariaDBDialect",
        "org.hibernate.community.dialect.SQLiteDialect", "org.hibernate.community.dialect.DerbyDialect",
    };

    /** The databases Hibernate has a dialect for: all of them. */
    static Stream<Database> databases() {
        return Arrays.stream(Database.values());
    }

    static String dialect(Database database) {
        return DIALECTS[database.ordinal()];
    }

    /** Spring's CurrentSessionContext, so that getCurrentSession() is the session of Spring's transaction. */
    static final String SPRING_SESSION_CONTEXT = "org.springframework.orm.jpa.hibernate.SpringSessionContext";

    static PlatformTransactionManager springTransactionManager(SessionFactory hibernate, DataSource pool) {
        HibernateTransactionManager manager = new HibernateTransactionManager(hibernate);
        manager.setDataSource(pool);
        return manager;
    }
}
