package dev.txguard.benchmarks;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.txguard.benchmarks.suites.BareSuite;
import dev.txguard.benchmarks.suites.RecreatingSuite;
import dev.txguard.benchmarks.suites.SuiteBank;
import dev.txguard.benchmarks.suites.TruncatingSuite;
import dev.txguard.benchmarks.suites.TxGuardSuite;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A suite of {@value SuiteBank#TESTS} tests of legacy DAO code (suites/), run through JUnit's launcher, four ways:
 * with no isolation (the baseline), with {@code @TxGuardTest}, truncating the touched tables after each test, and
 * recreating the schema before each test. One operation is one run of the whole suite; every test must pass.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main TestSuites -f 1 -wi 2 -i 5</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TestSuites {

    @Param({"postgresql://127.0.0.1:5432/test?user=postgres", "mariadb://127.0.0.1:3306/test?user=root"})
    public String database;

    private Launcher launcher;

    @Setup(Level.Trial)
    public void schema() throws SQLException {
        SuiteBank.database = database;
        try (Connection c = DriverManager.getConnection(SuiteBank.rawUrl())) {
            SuiteBank.dropSchema(c);
            SuiteBank.createSchema(c);
        }
        launcher = LauncherFactory.create();
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        SuiteBank.closePools();
        try (Connection c = DriverManager.getConnection(SuiteBank.rawUrl())) {
            SuiteBank.dropSchema(c);
        }
    }

    private long run(Class<?> suite) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectClass(suite)).build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        launcher.execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        if (summary.getTestsSucceededCount() != SuiteBank.TESTS || summary.getTotalFailureCount() > 0) {
            java.io.StringWriter failures = new java.io.StringWriter();
            summary.printFailuresTo(new java.io.PrintWriter(failures), 20);
            throw new IllegalStateException(suite.getSimpleName() + ": " + summary.getTestsSucceededCount() + " of "
                    + SuiteBank.TESTS + " tests passed\n" + failures);
        }
        return summary.getTestsSucceededCount();
    }

    @Benchmark
    public long bare() {
        return run(BareSuite.class);
    }

    @Benchmark
    public long txguardTest() {
        return run(TxGuardSuite.class);
    }

    @Benchmark
    public long truncating() {
        return run(TruncatingSuite.class);
    }

    @Benchmark
    public long recreating() {
        return run(RecreatingSuite.class);
    }
}
