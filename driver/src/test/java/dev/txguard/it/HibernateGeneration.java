package dev.txguard.it;

import java.util.Arrays;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.hibernate.SessionFactory;
import org.springframework.orm.hibernate5.HibernateTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * What HibernateTransactionsTest needs that differs from one generation of Hibernate and Spring to the
 * next: this is Hibernate 5 with Spring 5 (javax). The jakarta module compiles the same test against a
 * HibernateGeneration of its own, for Hibernate 7 with Spring 7.
 */
final class HibernateGeneration {

    private HibernateGeneration() {
    }

    /** By Database's order; Hibernate 5 has no SQLite dialect. */
    private static final String[] DIALECTS = {
        "org.hibernate.dialect.H2Dialect", "org.hibernate.dialect.PostgreSQL10Dialect", "org.hibernate.dialect.MariaDB103Dialect",
        null, "org.hibernate.dialect.DerbyTenSevenDialect",
    };

    /** The databases Hibernate has a dialect for. */
    static Stream<Database> databases() {
        return Arrays.stream(Database.values()).filter(d -> DIALECTS[d.ordinal()] != null);
    }

    static String dialect(Database database) {
        return DIALECTS[database.ordinal()];
    }

    /** Spring's CurrentSessionContext, so that getCurrentSession() is the session of Spring's transaction. */
    static final String SPRING_SESSION_CONTEXT = "org.springframework.orm.hibernate5.SpringSessionContext";

    static PlatformTransactionManager springTransactionManager(SessionFactory hibernate, DataSource pool) {
        HibernateTransactionManager manager = new HibernateTransactionManager(hibernate);
        manager.setDataSource(pool);
        return manager;
    }
}
