package dev.txguard.benchmarks.suites;

import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What legacy suites do: the tables the tests touch are truncated after each test. */
public class TruncatingSuite {

    @ParameterizedTest
    @MethodSource("dev.txguard.benchmarks.suites.SuiteBank#tests")
    void transfer(int test) throws SQLException {
        SuiteBank.transferTest(SuiteBank.poolOf(TruncatingSuite.class));
    }

    @AfterEach
    void truncate() throws SQLException {
        try (Connection c = SuiteBank.poolOf(TruncatingSuite.class).getConnection()) {
            SuiteBank.truncate(c);
        }
    }
}
