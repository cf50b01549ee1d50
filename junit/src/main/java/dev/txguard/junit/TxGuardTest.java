package dev.txguard.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs each test in one transaction that is rolled back after it, whatever the code under test commits.
 *
 * <p>On a class: what {@code @BeforeAll} writes is in a class transaction that each test sees, each test is a savepoint
 * under it, and everything is rolled back after {@code @AfterAll}; {@code @Nested} classes nest the same way. On a
 * method: that test alone. While a test runs, every connection txguard guards for the same database (same URL and
 * user), from a {@code jdbc:txguard:} URL or a {@code TxGuardDataSource}, is a handle on one physical connection
 * inside the test's transaction, so the application needs no change: its commits are savepoints released inside the
 * test transaction, its rollbacks roll back to them, and durable methods that begin directly under the test run as
 * outermost. The rules and limits are in docs/testing.md; {@link dev.txguard.TestTransaction} is the same for other
 * runners.
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TxGuardExtension.class)
public @interface TxGuardTest {

    /** What a test that ends with a transaction scope of the application still open does. */
    OpenScopes openScopes() default OpenScopes.FAIL;

    /**
     * Connections used on other threads during the test (an executor's, a server's in the same JVM): they join the
     * test transaction, one call at a time ({@link OtherThreads#JOIN}), or are refused ({@link OtherThreads#REFUSE}).
     */
    OtherThreads otherThreads() default OtherThreads.JOIN;

    /**
     * How long a thread waits for the test's connection while another thread is in the middle of a call on it; past
     * it the waiting thread fails, naming the other thread and where it is, so that a suite never hangs.
     */
    long connectionWaitMillis() default 10_000;

    enum OtherThreads {
        JOIN,
        REFUSE
    }

    enum OpenScopes {
        /** The test fails, naming where each scope began (they are rolled back either way). */
        FAIL,
        /** A WARNING (logger {@code dev.txguard}) names them, and the test passes. */
        WARN
    }
}
