package dev.txguard.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test of a {@link TxGuardTest} class that needs real commits (a second process reads what it wrote, it tests
 * recovery after a restart): it runs outside the test transaction, and connections it opens commit for real. It owes
 * its own clean-up, in the test or in {@code @AfterEach}. The connections of the class transaction (a pool opened in
 * {@code @BeforeAll}) refuse to work during it, as what they did would be rolled back after the class after all: such a
 * test opens connections of its own, or lives in a class without {@code @TxGuardTest}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface CommitsForReal {}
