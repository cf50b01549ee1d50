package dev.txguard.it;

import com.p6spy.engine.common.ConnectionInformation;
import com.p6spy.engine.event.JdbcEventListener;
import com.p6spy.engine.wrapper.ConnectionWrapper;
import java.sql.Connection;

/**
 * A plain forwarding Connection class to build hand-written pool handles on. P6Spy's public wrapper
 * does the forwarding (with a listener that listens to nothing), which spares sixty one-line methods.
 */
class ConnectionForwarder extends ConnectionWrapper {

    final Connection physical;

    ConnectionForwarder(Connection physical) {
        super(physical, new JdbcEventListener() {}, ConnectionInformation.fromTestConnection(physical));
        this.physical = physical;
    }
}
