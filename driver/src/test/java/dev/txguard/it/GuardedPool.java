package dev.txguard.it;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.TxGuardDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * A HikariCP pool guarded as README.md tells users to guard it for the HikariCP on the classpath: beneath,
 * over the {@code jdbc:txguard:} URL, up to HikariCP 5; over the pool from HikariCP 6 on, which answers
 * getAutoCommit() from what its handle was last given. Both are a TxGuardDataSource over the pool: over
 * a {@code jdbc:txguard:} URL it hands out the pool's handles as they are, since they are guarded already.
 */
final class GuardedPool extends TxGuardDataSource implements AutoCloseable {

    /** HikariCP's version, from the Maven metadata in its jar. */
    static final String HIKARI_VERSION = hikariVersion();

    /** The pool answers getAutoCommit() from its own record, so txguard must sit above it. */
    static final boolean REMEMBERS_AUTO_COMMIT = Integer.parseInt(HIKARI_VERSION.substring(0, HIKARI_VERSION.indexOf('.'))) >= 6;

    private final HikariDataSource pool;

    GuardedPool(TestDb db, boolean autoCommit) {
        this(db, autoCommit, REMEMBERS_AUTO_COMMIT);
    }

    /** With {@code over} false, beneath the pool, over the {@code jdbc:txguard:} URL, whatever HikariCP's version. */
    GuardedPool(TestDb db, boolean autoCommit, boolean over) {
        this(hikari(over ? db.rawUrl : db.guardedUrl(), autoCommit));
    }

    private GuardedPool(HikariDataSource pool) {
        super(pool);
        this.pool = pool;
    }

    private static HikariDataSource hikari(String url, boolean autoCommit) {
        HikariConfig config = new HikariConfig();
        config.setAutoCommit(autoCommit);
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(2);
        config.setPoolName("txguard-test");
        return new HikariDataSource(config);
    }

    private static String hikariVersion() {
        String metadata = "META-INF/maven/com.zaxxer/HikariCP/pom.properties";
        try (InputStream in = HikariDataSource.class.getClassLoader().getResourceAsStream(metadata)) {
            if (in == null) throw new IllegalStateException("no " + metadata + " beside HikariCP's classes");
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
