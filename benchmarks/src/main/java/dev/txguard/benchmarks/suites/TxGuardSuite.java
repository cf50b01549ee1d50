package dev.txguard.benchmarks.suites;

import dev.txguard.junit.TxGuardTest;
import java.sql.SQLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Each test in a transaction that is rolled back: the application's pool over a jdbc:txguard: URL. */
@TxGuardTest
public class TxGuardSuite {

    /** Opened in the first run's class transaction: its connections serve the test transactions of every later run. */
    @BeforeAll
    static void openThePool() {
        SuiteBank.poolOf(TxGuardSuite.class);
    }

    @ParameterizedTest
    @MethodSource("dev.txguard.benchmarks.suites.SuiteBank#tests")
    void transfer(int test) throws SQLException {
        SuiteBank.transferTest(SuiteBank.poolOf(TxGuardSuite.class));
    }
}
