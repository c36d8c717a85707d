using static Nabla.Tests.Support.PtxAlu;

namespace Nabla.Tests.Support;

// The interpreter loop: runs one thread until it blocks (bar/shfl/vote) or exits.
internal sealed partial class PtxExecution
{
    private void RunThread(int t)
    {
        var code = _k.Code;
        var r = _r;
        var b = t * _file;
        var pc = _pc[t];
        long executed = 0;
        try
        {
            while (true)
            {
                var i = code[pc];
                executed++;
                if (i.Pred >= 0)
                {
                    if (r[b + i.Pred] == RegisterPoison) throw Unset(i, t, i.Pred);
                    if ((r[b + i.Pred] != 0) == i.PredNeg)
                    {
                        pc++;
                        continue;
                    }
                }
                var sources = i.Sources;
                for (var k = 0; k < sources.Length; k++)
                    if (r[b + sources[k]] == RegisterPoison) throw Unset(i, t, sources[k]);
                switch (i.Op)
                {
                    case PtxOp.Bra:
                        pc = i.Target;
                        if (executed > _budget) throw Fault(i, t, $"the launch exceeded its budget of {Executed + executed} instructions (an endless loop?); raise PtxEmulator.InstructionBudget if it is legitimate");
                        continue;
                    case PtxOp.Exit:
                        _state[t] = Exited;
                        _exited++;
                        _pc[t] = pc;
                        return;
                    case PtxOp.Bar:
                        _state[t] = AtBarrier;
                        _atBarrier++;
                        _pc[t] = pc;
                        return;
                    case PtxOp.Shfl or PtxOp.Vote:
                        _state[t] = AtWarp;
                        _atWarp++;
                        _pc[t] = pc;
                        return;
                    default:
                        Execute(i, t, b);
                        break;
                }
                pc++;
            }
        }
        catch (PtxEmulatorException e) when (!e.Message.StartsWith("kernel ", StringComparison.Ordinal))
        {
            throw Fault(code[pc], t, e.Message);
        }
        finally
        {
            Executed += executed;
            _budget -= executed;
        }
    }

    private PtxEmulatorException Unset(PtxInstr i, int t, int register) =>
        Fault(i, t, $"reads {_k.RegisterNames[register]}, which this thread has not written (an uninitialised register)");

    private void Execute(PtxInstr i, int t, int b)
    {
        var r = _r;
        switch (i.Op)
        {
            case PtxOp.Nop:
                return;
            case PtxOp.Ld:
            {
                var size = PtxTypes.Size(i.T);
                var address = (i.A >= 0 ? r[b + i.A] : 0) + (ulong)i.Offset;
                var span = Access(i, t, i.Space, address, size * i.Vec, size * i.Vec, AccessKind.Read, default);
                if (i.Vec == 1)
                {
                    r[b + i.D] = Extend(Read(span), i.T);
                    return;
                }
                for (var k = 0; k < i.Vec; k++) r[b + i.Regs[k]] = Extend(Read(span.Slice(k * size, size)), i.T);
                return;
            }
            case PtxOp.St:
            {
                var size = PtxTypes.Size(i.T);
                var address = (i.A >= 0 ? r[b + i.A] : 0) + (ulong)i.Offset;
                Span<byte> bytes = stackalloc byte[32];
                bytes = bytes[..(size * i.Vec)];
                if (i.Vec == 1) Write(bytes, r[b + i.B]);
                else for (var k = 0; k < i.Vec; k++) Write(bytes.Slice(k * size, size), r[b + i.Regs[k]]);
                bytes.CopyTo(Access(i, t, i.Space, address, size * i.Vec, size * i.Vec, AccessKind.Write, bytes));
                return;
            }
            case PtxOp.Mov:
                r[b + i.D] = r[b + i.A];
                return;
            case PtxOp.MovPack:
            {
                var bits = PtxTypes.Size(i.T) * 8 / i.Vec;
                ulong v = 0;
                for (var k = 0; k < i.Vec; k++) v |= Unsigned(r[b + i.Regs[k]], bits / 8) << (k * bits);
                r[b + i.D] = v;
                return;
            }
            case PtxOp.MovUnpack:
            {
                var bits = PtxTypes.Size(i.T) * 8 / i.Vec;
                var v = r[b + i.A];
                for (var k = 0; k < i.Vec; k++) r[b + i.Regs[k]] = Unsigned(v >> (k * bits), bits / 8);
                return;
            }
            case PtxOp.Cvta:
                r[b + i.D] = Cvta(i, t, r[b + i.A]);
                return;
            case PtxOp.Add or PtxOp.Sub or PtxOp.Mul or PtxOp.Mad or PtxOp.Fma or PtxOp.Div or PtxOp.Rem or PtxOp.Min or PtxOp.Max:
            {
                var c = i.C >= 0 ? r[b + i.C] : 0;
                r[b + i.D] = i.T switch
                {
                    PtxType.F32 => F32Binary(i, r[b + i.A], r[b + i.B], c),
                    PtxType.F64 => F64Binary(i, r[b + i.A], r[b + i.B], c),
                    _ => IntBinary(i, r[b + i.A], r[b + i.B], c),
                };
                return;
            }
            case PtxOp.Abs or PtxOp.Neg:
            {
                var a = r[b + i.A];
                switch (i.T)
                {
                    case PtxType.F32:
                        var f = i.Ftz ? Flush(F(a)) : F(a);
                        var fb = BitConverter.SingleToUInt32Bits(f);
                        r[b + i.D] = i.Op == PtxOp.Abs ? fb & 0x7FFF_FFFFu : fb ^ 0x8000_0000u;
                        return;
                    case PtxType.F64:
                        r[b + i.D] = i.Op == PtxOp.Abs ? a & 0x7FFF_FFFF_FFFF_FFFFUL : a ^ 0x8000_0000_0000_0000UL;
                        return;
                    default:
                        var size = PtxTypes.Size(i.T);
                        var s = Signed(a, size);
                        r[b + i.D] = Unsigned(i.Op == PtxOp.Abs ? (ulong)(s < 0 ? 0 - s : s) : 0 - (ulong)s, size);
                        return;
                }
            }
            case PtxOp.And or PtxOp.Or or PtxOp.Xor:
            {
                ulong x = r[b + i.A], y = r[b + i.B];
                var v = i.Op == PtxOp.And ? x & y : i.Op == PtxOp.Or ? x | y : x ^ y;
                r[b + i.D] = i.T == PtxType.Pred ? v & 1 : Unsigned(v, PtxTypes.Size(i.T));
                return;
            }
            case PtxOp.Not:
                r[b + i.D] = i.T == PtxType.Pred ? r[b + i.A] ^ 1 : Unsigned(~r[b + i.A], PtxTypes.Size(i.T));
                return;
            case PtxOp.Cnot:
                r[b + i.D] = Unsigned(r[b + i.A], PtxTypes.Size(i.T)) == 0 ? 1UL : 0UL;
                return;
            case PtxOp.Shl or PtxOp.Shr:
            {
                var size = PtxTypes.Size(i.T);
                var bits = size * 8;
                var n = (uint)r[b + i.B];
                var a = r[b + i.A];
                ulong v;
                if (i.Op == PtxOp.Shl) v = n >= bits ? 0 : a << (int)n;
                else if (PtxTypes.IsSigned(i.T)) v = (ulong)(Signed(a, size) >> (int)Math.Min(n, (uint)bits - 1));
                else v = n >= bits ? 0 : Unsigned(a, size) >> (int)n;
                r[b + i.D] = Unsigned(v, size);
                return;
            }
            case PtxOp.Setp:
            {
                var p = Compare(i, r[b + i.A], r[b + i.B]);
                if (i.Mode == 0)
                {
                    r[b + i.D] = p ? 1UL : 0UL;
                    if (i.D2 >= 0) r[b + i.D2] = p ? 0UL : 1UL;
                    return;
                }
                var c = (r[b + i.C] != 0) != i.NegC;
                r[b + i.D] = Combine(i.Mode, p, c) ? 1UL : 0UL;
                if (i.D2 >= 0) r[b + i.D2] = Combine(i.Mode, !p, c) ? 1UL : 0UL;
                return;
            }
            case PtxOp.Set:
            {
                var p = Compare(i, r[b + i.A], r[b + i.B]);
                if (i.Mode != 0) p = Combine(i.Mode, p, (r[b + i.C] != 0) != i.NegC);
                r[b + i.D] = i.T == PtxType.F32 ? (p ? 0x3F80_0000UL : 0UL) : (p ? 0xFFFF_FFFFUL : 0UL);
                return;
            }
            case PtxOp.Selp:
                r[b + i.D] = r[b + i.C] != 0 ? r[b + i.A] : r[b + i.B];
                return;
            case PtxOp.Slct:
            {
                bool ge;
                if (i.T2 == PtxType.S32) ge = (int)r[b + i.C] >= 0;
                else
                {
                    var c = F(r[b + i.C]);
                    if (i.Ftz) c = Flush(c);
                    ge = c >= 0f;
                }
                r[b + i.D] = ge ? r[b + i.A] : r[b + i.B];
                return;
            }
            case PtxOp.Cvt:
                r[b + i.D] = PtxCvt.Convert(i, r[b + i.A]);
                return;
            case PtxOp.Rcp or PtxOp.Sqrt or PtxOp.Rsqrt or PtxOp.Ex2 or PtxOp.Lg2 or PtxOp.Sin or PtxOp.Cos or PtxOp.Tanh:
                r[b + i.D] = Math1(i, r[b + i.A]);
                return;
            case PtxOp.Copysign:
            {
                var sign = i.T == PtxType.F32 ? 0x8000_0000UL : 0x8000_0000_0000_0000UL;
                var mask = i.T == PtxType.F32 ? 0xFFFF_FFFFUL : ulong.MaxValue;
                r[b + i.D] = ((r[b + i.B] & ~sign) | (r[b + i.A] & sign)) & mask;
                return;
            }
            case PtxOp.Testp:
                r[b + i.D] = Testp(i.Mode, i.T, r[b + i.A]) ? 1UL : 0UL;
                return;
            case PtxOp.Popc:
                r[b + i.D] = Popc(r[b + i.A], PtxTypes.Size(i.T));
                return;
            case PtxOp.Clz:
                r[b + i.D] = Clz(r[b + i.A], PtxTypes.Size(i.T));
                return;
            case PtxOp.Brev:
                r[b + i.D] = Brev(r[b + i.A], PtxTypes.Size(i.T) * 8);
                return;
            case PtxOp.Bfe:
                r[b + i.D] = Unsigned(Bfe(i.T, r[b + i.A], r[b + i.B], r[b + i.C]), PtxTypes.Size(i.T));
                return;
            case PtxOp.Bfi:
                r[b + i.D] = Bfi(i.T, r[b + i.A], r[b + i.B], r[b + i.C], r[b + i.E]);
                return;
            case PtxOp.Prmt:
                r[b + i.D] = Prmt(r[b + i.A], r[b + i.B], r[b + i.C]);
                return;
            case PtxOp.Atom:
                Atomic(i, t, b);
                return;
            default:
                throw new InvalidOperationException($"the interpreter has no case for {i.Op}");
        }
    }

    private static bool IsGlobal(PtxSpace space, ulong address) =>
        space == PtxSpace.Global || (space == PtxSpace.Generic && address - SharedWindow >= WindowSize && address - LocalWindow >= WindowSize);

    private static bool Combine(int mode, bool p, bool c) => mode switch { 1 => p && c, 2 => p || c, _ => p ^ c };

    private ulong Cvta(PtxInstr i, int t, ulong a)
    {
        var (window, size) = i.Space switch
        {
            PtxSpace.Shared => (SharedWindow, (ulong)_shared.Length),
            PtxSpace.Local => (LocalWindow, (ulong)_k.LocalBytes),
            _ => (0UL, 0UL),
        };
        if (i.Space == PtxSpace.Global) return a; // global addresses are generic addresses
        if (i.Mode == 1)
        {
            // generic → state space: the address must lie in that space's window
            if (a - window > size) throw Fault(i, t, $"cvta.to.{i.Space.ToString().ToLowerInvariant()} of 0x{a:X}, which is not a {i.Space.ToString().ToLowerInvariant()} generic address");
            return Unsigned(a - window, PtxTypes.Size(i.T));
        }
        if (i.T == PtxType.U32) throw Fault(i, t, "cvta to a 32-bit generic address cannot hold the emulator's windows; use .u64");
        return a + window;
    }

    private void Atomic(PtxInstr i, int t, int b)
    {
        var r = _r;
        var size = PtxTypes.Size(i.T);
        var address = (i.A >= 0 ? r[b + i.A] : 0) + (ulong)i.Offset;
        var span = Access(i, t, i.Space, address, size, size, AccessKind.Atomic, default);
        var old = Read(span);
        var v = r[b + i.B];
        ulong result;
        switch (i.Mode)
        {
            case 0: // add
                result = i.T switch
                {
                    // Float atomic adds on global memory run flush-to-zero; on shared memory they keep subnormals
                    // (CUDA Programming Guide, "Floating-Point Standard").
                    PtxType.F32 when IsGlobal(i.Space, address) => Bits(Flush(Flush(F(old)) + Flush(F(v)))),
                    PtxType.F32 => Bits(F(old) + F(v)),
                    PtxType.F64 => Bits(D(old) + D(v)),
                    _ => old + v,
                };
                break;
            case 1 or 2: // min, max
                var less = PtxTypes.IsSigned(i.T) ? Signed(v, size) < Signed(old, size) : Unsigned(v, size) < Unsigned(old, size);
                result = (i.Mode == 1) == less ? v : old;
                break;
            case 3: result = v; break; // exch
            case 4: result = Unsigned(old, size) == Unsigned(v, size) ? r[b + i.C] : old; break; // cas
            case 5: result = old & v; break;
            case 6: result = old | v; break;
            case 7: result = old ^ v; break;
            case 8: result = (uint)old >= (uint)v ? 0 : (uint)old + 1; break; // inc
            default: result = (uint)old == 0 || (uint)old > (uint)v ? (uint)v : (uint)old - 1; break; // dec
        }
        Write(span, Unsigned(result, size));
        if (i.D >= 0) r[b + i.D] = old;
    }
}
