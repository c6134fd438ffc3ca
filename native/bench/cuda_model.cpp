// Cost model on emulator counts (cuda_model.h).
#include "cuda_model.h"

#include <cxxabi.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace dd::cuda_model {

// The fixed parameters (A100-SXM, H100-SXM); per-SM limits from the CUDA programming guide's
// compute capability tables (8.0: 164 KiB shared memory per SM, 9.0: 228 KiB).
const Machine& a100() {
    static const Machine m{"A100-SXM", "sm_80", 108, 1.41, 156, 312, 1.0, 2.0, 5.0, 1, 65536, 2048, 32, 164 * 1024};
    return m;
}
const Machine& h100() {
    static const Machine m{"H100-SXM", "sm_90", 132, 1.75, 495, 989, 0.65, 3.35, 8.0, 1, 65536, 2048, 32, 228 * 1024};
    return m;
}
const Machine* machine_by_name(const std::string& name) {
    if (name == "a100") return &a100();
    if (name == "h100") return &h100();
    return nullptr;
}

namespace {

// "void dd::cuda_kernels::(anonymous namespace)::linear_kernel<1>(...)" / "linear_kernel<kModeTf32>" ->
// "linear_kernel".
std::string base_name(std::string s) {
    for (size_t p; (p = s.find("(anonymous namespace)")) != std::string::npos;) s.erase(p, 21);
    size_t end = s.find_first_of("<(");
    std::string head = s.substr(0, end == std::string::npos ? s.size() : end);
    const size_t colon = head.rfind("::");
    if (colon != std::string::npos) head = head.substr(colon + 2);
    const size_t space = head.rfind(' ');
    if (space != std::string::npos) head = head.substr(space + 1);
    return head;
}

// Top-level template arguments of "name<a, b<c>, d>(...)", trimmed.
std::vector<std::string> template_args(std::string s) {
    for (size_t p; (p = s.find("(anonymous namespace)")) != std::string::npos;) s.erase(p, 21);
    std::vector<std::string> out;
    const size_t open = s.find('<');
    if (open == std::string::npos || s.find('(') < open) return out;
    int depth = 0;
    std::string cur;
    for (size_t i = open + 1; i < s.size(); ++i) {
        const char ch = s[i];
        if (ch == '<' || ch == '(') ++depth;
        if ((ch == '>' || ch == ')') && depth-- == 0) break;
        if (ch == ',' && depth == 0) {
            out.push_back(cur);
            cur.clear();
            continue;
        }
        if (ch != ' ') cur += ch;
    }
    out.push_back(cur);
    return out;
}

bool numeric(const std::string& s) { return !s.empty() && s.find_first_not_of("-0123456789") == std::string::npos; }

std::string demangle(const std::string& mangled) {
    int status = 0;
    char* d = abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status);
    std::string out = status == 0 && d ? d : mangled;
    free(d);
    return out;
}

int number_before(const std::string& line, const std::string& unit) {
    const size_t p = line.find(unit);
    if (p == std::string::npos) return 0;
    size_t b = p;
    while (b > 0 && line[b - 1] == ' ') --b;
    size_t a = b;
    while (a > 0 && isdigit((unsigned char)line[a - 1])) --a;
    return a < b ? atoi(line.substr(a, b - a).c_str()) : 0;
}

}  // namespace

bool PtxasTable::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return false;
    std::string line;
    bool pending = false;
    while (std::getline(in, line)) {
        const size_t e = line.find("Compiling entry function '");
        if (e != std::string::npos) {
            const size_t a = e + 26, b = line.find('\'', a);
            const size_t s = line.find("for '", b), s2 = line.find('\'', s + 5);
            if (b == std::string::npos || s == std::string::npos || s2 == std::string::npos) continue;
            const std::string name = demangle(line.substr(a, b - a));
            table_.push_back(Entry{base_name(name), line.substr(s + 5, s2 - s - 5), template_args(name), {}});
            pending = true;
            continue;
        }
        if (pending && line.find("Used ") != std::string::npos && line.find(" registers") != std::string::npos) {
            table_.back().usage.registers = number_before(line, "registers");
            table_.back().usage.static_smem = number_before(line, "bytes smem");
            pending = false;
        }
    }
    return true;
}

bool PtxasTable::find(const std::string& kernel, const std::string& sm, PtxasUsage* out) const {
    const std::string base = base_name(kernel);
    const std::vector<std::string> args = template_args(kernel);
    bool found = false;
    for (const Entry& e : table_) {
        if (e.base != base || e.sm != sm || e.args.size() != args.size()) continue;
        bool match = true;
        for (size_t i = 0; i < args.size(); ++i) match = match && (!numeric(args[i]) || args[i] == e.args[i]);
        if (!match) continue;
        out->registers = std::max(found ? out->registers : 0, e.usage.registers);
        out->static_smem = std::max(found ? out->static_smem : 0, e.usage.static_smem);
        found = true;
    }
    return found;
}

Cost cost(const Workload& w, const Machine& m, const PtxasTable& ptxas) {
    const auto& L = w.launch;
    const auto& c = L.whole;
    Cost k;
    k.scale = L.blocks_emulated ? (double)L.blocks_total / (double)L.blocks_emulated : 0;
    const int threads = (int)(L.block.x * L.block.y * L.block.z);
    const int warps = (threads + 31) / 32;
    PtxasUsage u;
    k.registers_known = ptxas.find(L.kernel, m.sm, &u);
    k.registers = u.registers;
    int occ = std::min(m.blocks_per_sm, m.threads_per_sm / std::max(1, threads));
    if (k.registers_known && u.registers > 0) {
        const int per_warp = (u.registers * 32 + 255) / 256 * 256;  // allocation unit: 256 registers per warp
        occ = std::min(occ, m.regs_per_sm / (per_warp * warps));
    }
    const int smem = (int)L.dyn_smem + u.static_smem + 1024;  // 1 KiB per block reserved by the system
    occ = std::min(occ, m.smem_per_sm / smem);
    k.blocks_per_sm = occ;
    const double blocks = (double)L.blocks_total;
    const double slots = (double)m.sms * std::max(1, occ);
    const double waves = std::ceil(blocks / slots);
    k.wave_efficiency = blocks > 0 ? blocks / (waves * slots) : 1;

    const double tf32_flops = c.mma_tf32 * 2.0 * 16 * 8 * 8;
    const double half_flops = (c.mma_bf16 + c.mma_f16) * 2.0 * 16 * 8 * 16;
    const double eff = m.mma_sync_efficiency;
    k.tensor_ms = (tf32_flops / (m.tf32_tflops * 1e12 * eff) + half_flops / (m.bf16_tflops * 1e12 * eff)) * 1e3 /
                  k.wave_efficiency;
    k.smem_ms = c.smem_wavefronts / (m.sms * m.smem_wavefronts_per_clock_per_sm * m.clock_ghz * 1e9) * 1e3 /
                k.wave_efficiency;
    k.l2_ms = std::max(c.l2_bytes(), w.dram_bytes) / (m.l2_tbs * 1e12) * 1e3;
    k.dram_ms = w.dram_bytes / (m.hbm_tbs * 1e12) * 1e3;
    const std::pair<double, const char*> terms[] = {
        {k.tensor_ms, "tensor"}, {k.smem_ms, "smem"}, {k.l2_ms, "L2"}, {k.dram_ms, "DRAM"}};
    for (const auto& t : terms)
        if (t.first >= k.modeled_ms) {
            k.modeled_ms = t.first;
            k.bound = t.second;
        }
    return k;
}

namespace {

std::string json_escape(const std::string& s) {
    std::string o;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') o += '\\';
        o += ch;
    }
    return o;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

}  // namespace

std::string report(const std::vector<Workload>& ws, const Machine& m, const PtxasTable& ptxas, bool json,
                   const std::string& title, double gemm_flops) {
    std::vector<Cost> costs;
    double total = 0;
    for (const Workload& w : ws) {
        costs.push_back(cost(w, m, ptxas));
        total += costs.back().modeled_ms * w.calls;
    }
    std::ostringstream o;
    if (json) {
        o << "{\n  \"modeled\": true,\n  \"title\": \"" << json_escape(title) << "\",\n";
        o << fmt("  \"machine\": {\"name\": \"%s\", \"sms\": %d, \"clock_ghz\": %.2f, \"tf32_tflops\": %.0f, "
                 "\"bf16_tflops\": %.0f, \"mma_sync_efficiency\": %.2f, \"hbm_tbs\": %.2f, \"l2_tbs\": %.1f, "
                 "\"smem_wavefronts_per_clock_per_sm\": %.0f},\n",
                 m.name, m.sms, m.clock_ghz, m.tf32_tflops, m.bf16_tflops, m.mma_sync_efficiency, m.hbm_tbs,
                 m.l2_tbs, m.smem_wavefronts_per_clock_per_sm);
        o << fmt("  \"total_ms\": %.6f,\n", total);
        if (gemm_flops > 0) o << fmt("  \"tflops\": %.3f,\n", total > 0 ? gemm_flops / (total * 1e-3) / 1e12 : 0.0);
        o << "  \"kernels\": [\n";
        for (size_t i = 0; i < ws.size(); ++i) {
            const Workload& w = ws[i];
            const Cost& k = costs[i];
            const auto& c = w.launch.whole;
            o << fmt("    {\"name\": \"%s\", \"kernel\": \"%s\", \"calls\": %d, \"grid\": [%u, %u, %u], "
                     "\"block\": %u, \"dyn_smem\": %zu, \"blocks_emulated\": %llu, \"scale\": %.4f, "
                     "\"registers\": %s, \"blocks_per_sm\": %d, \"wave_efficiency\": %.4f,\n",
                     json_escape(w.label).c_str(), json_escape(w.launch.kernel).c_str(), w.calls, w.launch.grid.x,
                     w.launch.grid.y, w.launch.grid.z, w.launch.block.x * w.launch.block.y * w.launch.block.z,
                     w.launch.dyn_smem, (unsigned long long)w.launch.blocks_emulated, k.scale,
                     k.registers_known ? std::to_string(k.registers).c_str() : "null", k.blocks_per_sm,
                     k.wave_efficiency);
            o << fmt("     \"counters\": {\"mma_flops\": %.0f, \"smem_wavefronts\": %.0f, "
                     "\"smem_conflict_wavefronts\": %.0f, \"l2_bytes\": %.0f, \"dram_bytes\": %.0f, "
                     "\"barriers\": %.0f, \"mma_tf32\": %.0f, \"mma_bf16\": %.0f, \"mma_f16\": %.0f, "
                     "\"ldmatrix\": %.0f, \"cp_async\": %.0f, \"smem_requests\": %.0f, \"global_bytes\": %.0f},\n",
                     c.mma_flops, c.smem_wavefronts, c.smem_conflict_wavefronts, c.l2_bytes(), w.dram_bytes,
                     c.barriers, c.mma_tf32, c.mma_bf16, c.mma_f16, c.ldmatrix_x1 + c.ldmatrix_x2 + c.ldmatrix_x4,
                     c.cp_async_4 + c.cp_async_8 + c.cp_async_16, c.smem_requests, c.global_bytes);
            o << fmt("     \"sampled_counters\": {\"mma_flops\": %.0f, \"smem_wavefronts\": %.0f, \"l2_bytes\": %.0f, "
                     "\"blocks\": %.0f},\n",
                     w.launch.sampled.mma_flops, w.launch.sampled.smem_wavefronts, w.launch.sampled.l2_bytes(),
                     w.launch.sampled.blocks);
            o << fmt("     \"terms_ms\": {\"tensor\": %.6f, \"smem\": %.6f, \"l2\": %.6f, \"dram\": %.6f}, "
                     "\"bound\": \"%s\", \"modeled_ms\": %.6f, \"modeled_ms_all_calls\": %.6f}%s\n",
                     k.tensor_ms, k.smem_ms, k.l2_ms, k.dram_ms, k.bound, k.modeled_ms, k.modeled_ms * w.calls,
                     i + 1 < ws.size() ? "," : "");
        }
        o << "  ]\n}\n";
        return o.str();
    }
    o << title << " on " << m.name << " (MODELED from emulator counts, not measured)\n";
    o << fmt("machine: %d SMs, %.2f GHz, TF32 %.0f / BF16 %.0f TFLOP/s x mma.sync %.0f%%, HBM %.2f TB/s, L2 %.1f TB/s, "
             "%.0f smem wavefront/clock/SM\n",
             m.sms, m.clock_ghz, m.tf32_tflops, m.bf16_tflops, m.mma_sync_efficiency * 100, m.hbm_tbs, m.l2_tbs,
             m.smem_wavefronts_per_clock_per_sm);
    o << fmt("%-28s %5s %7s %5s %4s %9s %9s %9s %9s %9s %6s %10s\n", "kernel", "calls", "scale", "regs", "occ",
             "tensor_us", "smem_us", "L2_us", "DRAM_us", "call_us", "bound", "total_ms");
    for (size_t i = 0; i < ws.size(); ++i) {
        const Cost& k = costs[i];
        o << fmt("%-28s %5d %7.1f %5s %4d %9.2f %9.2f %9.2f %9.2f %9.2f %6s %10.3f\n", ws[i].label.c_str(),
                 ws[i].calls, k.scale, k.registers_known ? std::to_string(k.registers).c_str() : "?",
                 k.blocks_per_sm, k.tensor_ms * 1e3, k.smem_ms * 1e3, k.l2_ms * 1e3, k.dram_ms * 1e3,
                 k.modeled_ms * 1e3, k.bound, k.modeled_ms * ws[i].calls);
    }
    o << fmt("modeled total: %.3f ms\n", total);
    if (gemm_flops > 0) o << fmt("modeled throughput: %.1f TFLOP/s\n", gemm_flops / (total * 1e-3) / 1e12);
    if (ptxas.empty()) o << "note: no ptxas usage table: occupancy from shared memory and threads only\n";
    return o.str();
}

}  // namespace dd::cuda_model
