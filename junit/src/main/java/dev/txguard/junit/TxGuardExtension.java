package dev.txguard.junit;

import dev.txguard.TestTransaction;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * {@link TxGuardTest}'s extension: JUnit's life cycle as test transactions, and nothing else (the semantics are
 * {@link TestTransaction}'s). A class transaction opens before {@code @BeforeAll} and ends after {@code @AfterAll},
 * a test's opens before {@code @BeforeEach} and ends after {@code @AfterEach}, nested in the class's when there is one.
 */
public final class TxGuardExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TxGuardExtension.class);
    /** A class's transaction, in the class's store; a nested class and each test look it up through their parents. */
    private static final String CLASS_TRANSACTION = "class transaction";
    private static final String TEST_TRANSACTION = "test transaction";
    private static final System.Logger LOG = System.getLogger("dev.txguard");

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Class<?> testClass = context.getRequiredTestClass();
        if (!classSetting(testClass).isPresent()) return; // registered for its methods only
        TestTransaction enclosing = context.getStore(NAMESPACE).get(CLASS_TRANSACTION, TestTransaction.class);
        String name = testClass.getSimpleName();
        TestTransaction transaction = enclosing == null ? TestTransaction.begin(name) : enclosing.nested(name);
        context.getStore(NAMESPACE).put(CLASS_TRANSACTION, transaction);
        apply(classSetting(testClass).get(), transaction);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        TestTransaction transaction = context.getStore(NAMESPACE).remove(CLASS_TRANSACTION, TestTransaction.class);
        if (transaction != null) end(transaction, classSetting(context.getRequiredTestClass()).orElse(null));
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        TestTransaction classTransaction = context.getStore(NAMESPACE).get(CLASS_TRANSACTION, TestTransaction.class);
        Method method = context.getRequiredTestMethod();
        String name = context.getRequiredTestClass().getSimpleName() + "." + context.getDisplayName();
        TestTransaction transaction;
        if (AnnotationSupport.isAnnotated(method, CommitsForReal.class)) {
            if (classTransaction == null) return; // no test transaction to leave
            transaction = classTransaction.commitsForReal(name);
        } else {
            transaction = classTransaction == null ? TestTransaction.begin(name) : classTransaction.nested(name);
        }
        context.getStore(NAMESPACE).put(TEST_TRANSACTION, transaction);
        Optional<TxGuardTest> setting = AnnotationSupport.findAnnotation(method, TxGuardTest.class);
        if (setting.isPresent()) apply(setting.get(), transaction); // otherwise the class's, inherited
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        TestTransaction transaction = context.getStore(NAMESPACE).remove(TEST_TRANSACTION, TestTransaction.class);
        if (transaction == null) return;
        Optional<TxGuardTest> setting = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), TxGuardTest.class);
        end(transaction, setting.orElseGet(() -> classSetting(context.getRequiredTestClass()).orElse(null)));
    }

    /**
     * A test that declares a {@code TestTransaction.OnCommitCallbacks} parameter captures the on-commit callbacks due
     * in its transaction instead of running them.
     */
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestTransaction.OnCommitCallbacks.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestTransaction transaction = context.getStore(NAMESPACE).get(TEST_TRANSACTION, TestTransaction.class);
        if (transaction == null || !context.getTestMethod().isPresent()
                || AnnotationSupport.isAnnotated(context.getRequiredTestMethod(), CommitsForReal.class)) {
            throw new ParameterResolutionException("txguard: " + parameter.getDeclaringExecutable().getName()
                    + " asks for the on-commit callbacks of its test transaction, but it runs in none (it commits for"
                    + " real, or the parameter is not a test method's); only a @TxGuardTest test can capture them");
        }
        return transaction.captureOnCommitCallbacks();
    }

    private static void apply(TxGuardTest setting, TestTransaction transaction) {
        if (setting.otherThreads() == TxGuardTest.OtherThreads.REFUSE) transaction.refuseOtherThreads();
        transaction.waitForTheConnection(java.time.Duration.ofMillis(setting.connectionWaitMillis()));
    }

    /** Rolls back, and tells of the scopes the application left open as the setting says. */
    private static void end(TestTransaction transaction, TxGuardTest setting) throws Exception {
        List<String> leftOpen = transaction.end();
        if (leftOpen.isEmpty()) return;
        String message = "txguard: " + transaction.name() + " ended with " + leftOpen.size() + " transaction scope(s) of"
                + " the application open, begun at " + String.join("; ", leftOpen) + ". In production their work would"
                + " never be committed; they are rolled back with the test.";
        if (setting != null && setting.openScopes() == TxGuardTest.OpenScopes.WARN) {
            LOG.log(System.Logger.Level.WARNING, message);
        } else {
            throw new AssertionError(message + " End them in the code under test, or set"
                    + " @TxGuardTest(openScopes = WARN) to be warned only.");
        }
    }

    /** The annotation on the class, or on a class that encloses it (a @Nested class runs in its enclosing class's). */
    private static Optional<TxGuardTest> classSetting(Class<?> testClass) {
        for (Class<?> c = testClass; c != null; c = Modifier.isStatic(c.getModifiers()) ? null : c.getEnclosingClass()) {
            Optional<TxGuardTest> found = AnnotationSupport.findAnnotation((AnnotatedElement) c, TxGuardTest.class);
            if (found.isPresent()) return found;
        }
        return Optional.empty();
    }
}
