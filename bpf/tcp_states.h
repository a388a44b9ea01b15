/* The kernel's TCP states (include/net/tcp_states.h), shared by the TCP
 * tracers in BPF and by userspace for their names. */
#ifndef EBPF_MCP_BPF_TCP_STATES_H
#define EBPF_MCP_BPF_TCP_STATES_H

enum tcp_state_id {
	TCP_STATE_ESTABLISHED = 1,
	TCP_STATE_SYN_SENT = 2,
	TCP_STATE_SYN_RECV = 3,
	TCP_STATE_FIN_WAIT1 = 4,
	TCP_STATE_FIN_WAIT2 = 5,
	TCP_STATE_TIME_WAIT = 6,
	TCP_STATE_CLOSE = 7,
	TCP_STATE_CLOSE_WAIT = 8,
	TCP_STATE_LAST_ACK = 9,
	TCP_STATE_LISTEN = 10,
	TCP_STATE_CLOSING = 11,
	TCP_STATE_NEW_SYN_RECV = 12,
	TCP_STATE_BOUND_INACTIVE = 13,
};

#endif
