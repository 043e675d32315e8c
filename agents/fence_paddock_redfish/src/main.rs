fn main() {
    // the stonith framework's run loop is not there yet; until then metadata-less stub
    let _agent = paddock_redfish::RedfishAgent;
}
