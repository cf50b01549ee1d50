package dev.txguard.benchmarks.suites;

import java.sql.SQLException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The baseline: the tests with no isolation at all (their ids never collide); what the others add is over this. */
public class BareSuite {

    @ParameterizedTest
    @MethodSource("dev.txguard.benchmarks.suites.SuiteBank#tests")
    void transfer(int test) throws SQLException {
        SuiteBank.transferTest(SuiteBank.poolOf(BareSuite.class));
    }
}
