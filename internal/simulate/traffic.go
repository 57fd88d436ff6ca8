package simulate

import (
	"net/netip"

	"github.com/flowd-dev/flowd/internal/parse"
)

// IANA protocol numbers used by the model.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// TCP flags as flow logs report them (only FIN, SYN, RST and SYN-ACK are logged).
const (
	flagFIN    = 1
	flagSYN    = 2
	flagSYNACK = 18
)

// flow is one record before rendering: compact, so a batch sorts cheaply by start.
type flow struct {
	src, dst         netip.Addr
	start, end       int64
	packets, bytes   uint64
	srcPort, dstPort uint16
	proto            uint8
	action           parse.Action
	status           parse.LogStatus
	flags            uint8
	dir              parse.FlowDirection
	path             uint8 // traffic-path, 0 when none (ingress)
	srcSvc, dstSvc   int8  // index into awsServices, -1 when none
	blockedReply     bool  // a reply rejected by a network ACL (acl-block scenario)
}

// sizeProfile shapes the packets and bytes of one kind of exchange: a Pareto number of request
// packets (heavy-tailed: most flows are small, a few are huge) and payloads per packet.
type sizeProfile struct {
	xm, alpha        float64
	reqMin, reqMax   int // bytes per request packet
	respMin, respMax int // bytes per response packet
}

var (
	profileWeb   = sizeProfile{xm: 3, alpha: 1.3, reqMin: 60, reqMax: 420, respMin: 300, respMax: 1500}
	profileQUIC  = sizeProfile{xm: 4, alpha: 1.3, reqMin: 80, reqMax: 1350, respMin: 900, respMax: 1350}
	profileApp   = sizeProfile{xm: 3, alpha: 1.4, reqMin: 100, reqMax: 600, respMin: 200, respMax: 1400}
	profileDB    = sizeProfile{xm: 2, alpha: 1.5, reqMin: 80, reqMax: 300, respMin: 100, respMax: 1400}
	profileAWS   = sizeProfile{xm: 4, alpha: 1.1, reqMin: 100, reqMax: 900, respMin: 600, respMax: 1500}
	profileSSH   = sizeProfile{xm: 6, alpha: 1.6, reqMin: 60, reqMax: 200, respMin: 60, respMax: 300}
	profileEgres = sizeProfile{xm: 3, alpha: 1.3, reqMin: 80, reqMax: 500, respMin: 300, respMax: 1500}
)

// maxPackets caps a flow's packets in one interval (about a 10 Gbit/s link for a minute).
const maxPackets = 50_000_000

// exchange is one conversation seen on the interface: a request record and, when accepted, the
// reply record in the other direction (flow logs are one-directional).
type exchange struct {
	local, remote netip.Addr
	inbound       bool  // the remote side initiated it
	remoteSvc     int8  // awsServices index of the remote, -1 none
	path          uint8 // traffic-path of this interface's egress record
	proto         uint8
	port          uint16 // service port
	ephemeral     uint16 // client port
	action        parse.Action
	profile       *sizeProfile
	// replyBlocked: a stateless network ACL drops the reply of an accepted request.
	replyBlocked bool
}

// generator produces the records of one interface and interval. Its buffers are reused from
// batch to batch, so the steady state allocates only each event's message and the batch.
type generator struct {
	cfg      *Config
	v        *vpc
	scen     *scenario
	interval int64
	flows    []flow
	order    []sortKey
}

// sortKey orders a batch's flows by start.
type sortKey struct {
	start int64
	idx   int32
}

// addFlow appends f to the batch being generated.
func (g *generator) addFlow(f flow) { g.flows = append(g.flows, f) }

// steady generates the baseline traffic of interface i in window [ws, we).
func (g *generator) steady(r *rng, i int, ws, we int64) {
	ifc := &g.v.ifaces[i]
	lambda := float64(g.cfg.FlowsPerInterval) * ifc.weight
	// Mean lambda, spread over [0.5, 1.5] lambda, rounded stochastically so small means work.
	n := int(lambda*(0.5+r.float()) + r.float())
	for len(g.flows) < n {
		switch ifc.role {
		case roleWeb:
			g.webUnit(r, ifc, ws, we)
		case roleApp:
			g.appUnit(r, ifc, ws, we)
		case roleDB:
			g.dbUnit(r, ifc, ws, we)
		default:
			g.idleUnit(r, ifc, ws, we)
		}
	}
}

// webUnit adds one exchange of a public web server.
func (g *generator) webUnit(r *rng, ifc *iface, ws, we int64) {
	u := r.float()
	switch {
	case u < 0.50:
		g.fromInternet(r, ifc, ws, we, protoTCP, 443, &profileWeb)
	case u < 0.62:
		g.fromInternet(r, ifc, ws, we, protoTCP, 80, &profileWeb)
	case u < 0.67:
		g.fromInternet(r, ifc, ws, we, protoUDP, 443, &profileQUIC) // HTTP/3
	case u < 0.77:
		g.toPeer(r, ifc, ws, we, roleApp, 8080, &profileApp)
	case u < 0.85:
		g.knock(r, ifc, ws, we, 22)
	case u < 0.89:
		g.knock(r, ifc, ws, we, 3389)
	case u < 0.93:
		g.ping(r, ifc, ws, we)
	case u < 0.97:
		g.toAWS(r, ifc, ws, we)
	default:
		g.toInternet(r, ifc, ws, we)
	}
}

// appUnit adds one exchange of an application server.
func (g *generator) appUnit(r *rng, ifc *iface, ws, we int64) {
	u := r.float()
	switch {
	case u < 0.35:
		if db := g.v.peer(r, roleDB); db >= 0 {
			g.toPeer(r, ifc, ws, we, roleDB, g.v.ifaces[db].dbPort, &profileDB)
			return
		}
		g.toAWS(r, ifc, ws, we)
	case u < 0.60:
		g.fromPeer(r, ifc, ws, we, roleWeb, 8080, &profileApp)
	case u < 0.88:
		g.toAWS(r, ifc, ws, we)
	case u < 0.93:
		g.toPeer(r, ifc, ws, we, roleApp, 0, nil) // ICMP health check of a sibling
	default:
		g.toInternet(r, ifc, ws, we)
	}
}

// dbUnit adds one exchange of a database server.
func (g *generator) dbUnit(r *rng, ifc *iface, ws, we int64) {
	if r.chance(0.85) {
		g.fromPeer(r, ifc, ws, we, roleApp, ifc.dbPort, &profileDB)
		return
	}
	g.toAWS(r, ifc, ws, we) // backups to S3
}

// idleUnit adds one exchange of a standby interface: an admin's SSH session or a health check.
func (g *generator) idleUnit(r *rng, ifc *iface, ws, we int64) {
	if r.chance(0.5) {
		g.fromPeer(r, ifc, ws, we, roleWeb, 22, &profileSSH)
		return
	}
	g.fromPeer(r, ifc, ws, we, roleWeb, 0, nil)
}

// fromInternet adds a client's request to the web server and its reply. Clients are skewed
// (heavy hitters), and IPv6Fraction of them use IPv6.
func (g *generator) fromInternet(r *rng, ifc *iface, ws, we int64, proto uint8, port uint16, p *sizeProfile) {
	idx := r.skewed(clientPoolSize, 3)
	x := exchange{local: ifc.addr4, inbound: true, remoteSvc: -1, path: 8, proto: proto, port: port,
		ephemeral: uint16(r.between(1024, 65535)), action: parse.ActionAccept, profile: p}
	if r.chance(g.cfg.IPv6Fraction) {
		x.local, x.remote = ifc.addr6, clientAddr6(g.cfg.Seed, idx)
	} else {
		x.remote = clientAddr4(g.cfg.Seed, idx)
	}
	g.addExchange(r, &x, ws, we)
}

// toInternet adds an outbound HTTPS call to a third party on the internet.
func (g *generator) toInternet(r *rng, ifc *iface, ws, we int64) {
	x := exchange{local: ifc.addr4, remote: clientAddr4(g.cfg.Seed, r.skewed(clientPoolSize, 4)), remoteSvc: -1,
		path: 8, proto: protoTCP, port: 443, ephemeral: uint16(r.between(32768, 60999)),
		action: parse.ActionAccept, profile: &profileEgres}
	g.addExchange(r, &x, ws, we)
}

// toAWS adds an HTTPS call to an AWS service and its reply.
func (g *generator) toAWS(r *rng, ifc *iface, ws, we int64) {
	svc, addr := pickService(r)
	x := exchange{local: ifc.addr4, remote: addr, remoteSvc: int8(svc), path: awsServices[svc].path,
		proto: protoTCP, port: 443, ephemeral: uint16(r.between(32768, 60999)),
		action: parse.ActionAccept, profile: &profileAWS}
	g.addExchange(r, &x, ws, we)
}

// toPeer adds a call from ifc to an interface of the role inside the VPC (port 0: ICMP).
func (g *generator) toPeer(r *rng, ifc *iface, ws, we int64, ro role, port uint16, p *sizeProfile) {
	g.peerExchange(r, ifc, ws, we, ro, port, p, false)
}

// fromPeer adds a call to ifc from an interface of the role inside the VPC (port 0: ICMP).
func (g *generator) fromPeer(r *rng, ifc *iface, ws, we int64, ro role, port uint16, p *sizeProfile) {
	g.peerExchange(r, ifc, ws, we, ro, port, p, true)
}

func (g *generator) peerExchange(r *rng, ifc *iface, ws, we int64, ro role, port uint16, p *sizeProfile, inbound bool) {
	pi := g.v.peer(r, ro)
	if pi < 0 {
		g.ping(r, ifc, ws, we)
		return
	}
	x := exchange{local: ifc.addr4, remote: g.v.ifaces[pi].addr4, inbound: inbound, remoteSvc: -1, path: 1,
		proto: protoTCP, port: port, ephemeral: uint16(r.between(32768, 60999)),
		action: parse.ActionAccept, profile: p}
	if p == nil {
		x.proto, x.port, x.ephemeral = protoICMP, 0, 0
	}
	x.replyBlocked = inbound && p != nil && port == ifc.dbPort && g.scen.blocksReplies(ifc, ws)
	g.addExchange(r, &x, ws, we)
}

// ping adds an ICMP echo from an internet client and its reply.
func (g *generator) ping(r *rng, ifc *iface, ws, we int64) {
	idx := r.skewed(clientPoolSize, 3)
	x := exchange{local: ifc.addr4, remote: clientAddr4(g.cfg.Seed, idx), inbound: true, remoteSvc: -1, path: 8,
		proto: protoICMP, action: parse.ActionAccept}
	if r.chance(g.cfg.IPv6Fraction) {
		x.local, x.remote, x.proto = ifc.addr6, clientAddr6(g.cfg.Seed, idx), protoICMPv6
	}
	g.addExchange(r, &x, ws, we)
}

// knock adds a rejected connection attempt from an internet attacker to port (SSH, RDP): a SYN
// and its retries, no reply.
func (g *generator) knock(r *rng, ifc *iface, ws, we int64, port uint16) {
	g.rejected(r, ifc.addr4, attackerAddr(g.cfg.Seed, r.skewed(attackerPoolSize, 2)),
		uint16(r.between(1024, 65535)), port, ws, we)
}

// rejected adds one rejected inbound TCP attempt.
func (g *generator) rejected(r *rng, local, remote netip.Addr, srcPort, port uint16, ws, we int64) {
	start := ws + int64(r.intn(int(we-ws)))
	pk := uint64(r.between(1, 3))
	g.addFlow(flow{
		src: remote, dst: local, srcPort: srcPort, dstPort: port, proto: protoTCP,
		packets: pk, bytes: pk * uint64(r.between(40, 60)),
		start: start, end: min(start+int64(r.between(0, 7)), we-1),
		action: parse.ActionReject, status: parse.LogStatusOK, flags: flagSYN,
		dir: parse.FlowDirectionIngress, srcSvc: -1, dstSvc: -1,
	})
}

// addExchange adds the request record of x and, if it was accepted, the reply record.
func (g *generator) addExchange(r *rng, x *exchange, ws, we int64) {
	span := we - ws
	var start, end int64
	var reqFlags, respFlags uint8
	long := false
	switch m := r.float(); {
	case m < 0.6: // opened and closed within the interval
		start = ws + int64(r.intn(int(span)))
		end = min(start+int64(r.between(0, 30)), we-1)
		reqFlags, respFlags = flagSYN|flagFIN, flagSYNACK|flagFIN
	case m < 0.8: // opened, still open at the end of the interval
		start = ws + int64(r.intn(int(span)))
		end = int64(r.between(int(start), int(we-1)))
		reqFlags, respFlags = flagSYN, flagSYNACK
	default: // a long-lived connection: the whole interval, no handshake seen
		start = ws + int64(r.intn(3))
		end = we - 1 - int64(r.intn(3))
		long = true
	}
	if x.proto != protoTCP {
		reqFlags, respFlags = 0, 0
	}
	var rp, rb, sp, sb uint64
	if x.profile == nil { // ICMP echo: 84-byte packets (IPv4), 104 (IPv6)
		rp = uint64(r.between(1, 10))
		per := uint64(84)
		if x.local.Is6() {
			per = 104
		}
		rb, sp = rp*per, rp
		sb = rb
	} else {
		p := x.profile
		f := r.pareto(p.xm, p.alpha)
		if long {
			f *= 8
		}
		rp = uint64(min(f, maxPackets))
		rb = rp * uint64(r.between(p.reqMin, p.reqMax))
		sp = rp*uint64(r.between(70, 130))/100 + 1
		sb = sp * uint64(r.between(p.respMin, p.respMax))
	}
	// Request record: client -> server.
	req := flow{proto: x.proto, packets: rp, bytes: rb, start: start, end: end, action: x.action,
		status: parse.LogStatusOK, flags: reqFlags, srcSvc: -1, dstSvc: -1}
	resp := flow{proto: x.proto, packets: sp, bytes: sb, start: start, end: end, action: x.action,
		status: parse.LogStatusOK, flags: respFlags, srcSvc: -1, dstSvc: -1}
	if x.inbound {
		req.src, req.srcPort, req.dst, req.dstPort = x.remote, x.ephemeral, x.local, x.port
		req.dir, req.srcSvc = parse.FlowDirectionIngress, x.remoteSvc
		resp.src, resp.srcPort, resp.dst, resp.dstPort = x.local, x.port, x.remote, x.ephemeral
		resp.dir, resp.path, resp.dstSvc = parse.FlowDirectionEgress, x.path, x.remoteSvc
	} else {
		req.src, req.srcPort, req.dst, req.dstPort = x.local, x.ephemeral, x.remote, x.port
		req.dir, req.path, req.dstSvc = parse.FlowDirectionEgress, x.path, x.remoteSvc
		resp.src, resp.srcPort, resp.dst, resp.dstPort = x.remote, x.port, x.local, x.ephemeral
		resp.dir, resp.srcSvc = parse.FlowDirectionIngress, x.remoteSvc
	}
	g.addFlow(req)
	if x.action == parse.ActionAccept {
		if x.replyBlocked {
			resp.action, resp.blockedReply = parse.ActionReject, true
		}
		g.addFlow(resp)
	}
}

// statusFlow returns a NODATA or SKIPDATA record of window [ws, we): only the window bounds
// (the end a little early, as AWS's are) and the status.
func statusFlow(r *rng, status parse.LogStatus, ws, we int64) flow {
	return flow{start: ws, end: we - int64(r.between(0, 3)), status: status, srcSvc: -1, dstSvc: -1}
}
