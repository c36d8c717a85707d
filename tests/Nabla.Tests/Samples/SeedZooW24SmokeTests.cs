using NUnit.Framework;
using Nabla.Samples;
using Nabla.Samples.Rl;

namespace Nabla.Tests.Samples;

/// <summary>
/// W24 (DQN on CartPole): the environment against Gymnasium's CartPole-v1 equations worked by hand, the
/// replay buffer, and the sample run in-process (quick, then long enough to beat a random policy).
/// </summary>
public sealed class SeedZooW24SmokeTests
{
    private string _out = null!;

    [SetUp]
    public void CreateOutputFolder() => _out = Directory.CreateTempSubdirectory("nabla-w24-").FullName;

    [TearDown]
    public void DeleteOutputFolder() => Directory.Delete(_out, recursive: true);

    [Test]
    public void OneStepMatchesGymnasiumsEulerStep()
    {
        // From (x, ẋ, θ, θ̇) = (0.01, −0.02, 0.03, 0.04), push right (F = +10 N), τ = 0.02:
        // temp = (F + m_p·l·θ̇²·sin θ) / (m_c + m_p)
        // θ̈ = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ / (m_c + m_p)))
        // ẍ = temp − m_p·l·θ̈·cos θ / (m_c + m_p)
        // with g = 9.8, m_c = 1, m_p = 0.1, l = 0.5; Euler moves x and θ with the old velocities.
        var env = new CartPole();
        env.SetState(0.01, -0.02, 0.03, 0.04);
        double th = 0.03, thd = 0.04;
        var temp = (10 + 0.05 * thd * thd * Math.Sin(th)) / 1.1;
        var thetaAcc = (9.8 * Math.Sin(th) - Math.Cos(th) * temp) / (0.5 * (4.0 / 3.0 - 0.1 * Math.Cos(th) * Math.Cos(th) / 1.1));
        var xAcc = temp - 0.05 * thetaAcc * Math.Cos(th) / 1.1;

        var step = env.Step(1);

        var (x, xDot, theta, thetaDot) = env.State;
        Assert.That(x, Is.EqualTo(0.01 + 0.02 * -0.02).Within(1e-15));
        Assert.That(xDot, Is.EqualTo(-0.02 + 0.02 * xAcc).Within(1e-15));
        Assert.That(theta, Is.EqualTo(0.03 + 0.02 * 0.04).Within(1e-15));
        Assert.That(thetaDot, Is.EqualTo(0.04 + 0.02 * thetaAcc).Within(1e-15));
        // The same numbers from Gymnasium's formulas in Python (float64).
        Assert.That(new[] { x, xDot, theta, thetaDot },
            Is.EqualTo(new[] { 0.0096, 0.17467919574755525, 0.0308, -0.24306871796000815 }).Within(1e-12));
        Assert.That(step.Observation, Is.EqualTo(new[] { (float)x, (float)xDot, (float)theta, (float)thetaDot }));
        Assert.That(step.Reward, Is.EqualTo(1.0));
        Assert.That(step.Terminated || step.Truncated, Is.False);

        // Pushing left mirrors pushing right from the mirrored state.
        var mirror = new CartPole();
        mirror.SetState(-0.01, 0.02, -0.03, -0.04);
        mirror.Step(0);
        Assert.That(mirror.State.XDot, Is.EqualTo(-xDot).Within(1e-15));
        Assert.That(mirror.State.ThetaDot, Is.EqualTo(-thetaDot).Within(1e-15));
    }

    [Test]
    public void TerminatesPastTheThresholds()
    {
        var env = new CartPole();
        // x = 2.39 moving right at 1 m/s: x becomes 2.41 > 2.4 after one step.
        env.SetState(2.39, 1, 0, 0);
        var r = env.Step(1);
        Assert.That(r.Terminated, Is.True);
        Assert.That(r.Truncated, Is.False);
        Assert.That(r.Reward, Is.EqualTo(1.0), "the terminating step is rewarded too");
        Assert.Throws<InvalidOperationException>(() => env.Step(0), "stepping a finished episode");

        // θ = 11.9° turning at 0.2 rad/s: +0.004 rad (0.23°) crosses 12°; at 11.5° with no spin it does not.
        env.SetState(0, 0, 11.9 * Math.PI / 180, 0.2);
        Assert.That(env.Step(1).Terminated, Is.True);
        env.SetState(0, 0, -11.9 * Math.PI / 180, -0.2);
        Assert.That(env.Step(0).Terminated, Is.True);
        env.SetState(2.3, 0, 11.5 * Math.PI / 180, 0);
        Assert.That(env.Step(0).Terminated, Is.False);
        Assert.That(CartPole.ThetaThreshold, Is.EqualTo(12 * Math.PI / 180).Within(1e-15));
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Step(2));
    }

    [Test]
    public void TruncatesAtFiveHundredSteps()
    {
        // A bang-bang controller on θ and θ̇ keeps the pole up for 500 steps from this start.
        var env = new CartPole();
        var obs = env.Reset(seed: 3);
        StepResult r = default;
        var steps = 0;
        do
        {
            r = env.Step(obs[2] + 0.5 * obs[3] > 0 ? 1 : 0);
            obs = r.Observation;
            steps++;
        } while (!r.Done);
        Assert.That(steps, Is.EqualTo(500));
        Assert.That(r.Truncated, Is.True);
        Assert.That(r.Terminated, Is.False);
    }

    [Test]
    public void SeededResetIsReproducibleAndWithinTheStartBox()
    {
        var a = new CartPole();
        var b = new CartPole();
        var first = a.Reset(seed: 7);
        Assert.That(b.Reset(seed: 7), Is.EqualTo(first));
        Assert.That(a.Reset(), Is.EqualTo(b.Reset()), "unseeded resets continue the same random sequence");
        Assert.That(a.Reset(seed: 8), Is.Not.EqualTo(first));
        for (var i = 0; i < 200; i++)
            Assert.That(a.Reset().All(v => v is >= -0.05f and <= 0.05f), Is.True);
    }

    [Test]
    public void ReplayBufferOverwritesTheOldestAndSamplesStoredTransitions()
    {
        var buffer = new ReplayBuffer(3, 1);
        for (var i = 0; i < 5; i++) buffer.Add([i], i % 2, i, [i + 1], terminal: i == 4);
        Assert.That(buffer.Count, Is.EqualTo(3));
        var batch = new ReplayBuffer.Batch(64, 1);
        buffer.Sample(new Random(1), batch);
        Assert.That(batch.Observations.Distinct().Order(), Is.EqualTo(new[] { 2f, 3f, 4f }), "transitions 0 and 1 were overwritten");
        for (var i = 0; i < 64; i++)
        {
            var s = batch.Observations[i];
            Assert.That(batch.NextObservations[i], Is.EqualTo(s + 1));
            Assert.That(batch.Rewards[i], Is.EqualTo(s));
            Assert.That(batch.Actions[i], Is.EqualTo((int)s % 2));
            Assert.That(batch.Terminals[i], Is.EqualTo(s == 4 ? 1f : 0f));
        }
    }

    [Test]
    public void QuickRunWritesTheCurveAndTheCsvWithFiniteLosses()
    {
        var result = W24Dqn.Run(new SampleOptions(W24Dqn.Name, Out: _out, Quick: true));

        Assert.That(result.Epochs, Is.EqualTo(40));
        Assert.That(File.Exists(Path.Combine(_out, "returns.png")), Is.True);
        var rows = File.ReadAllLines(Path.Combine(_out, "episodes.csv"));
        Assert.That(rows[0], Is.EqualTo("episode,return,average_100,epsilon,mean_loss,total_steps"));
        Assert.That(rows, Has.Length.EqualTo(41), "a header and one row per episode");
        var losses = rows.Skip(1).Select(r => double.Parse(r.Split(',')[4], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(losses.Count(double.IsFinite), Is.GreaterThan(20), "training starts after 256 stored transitions");
        Assert.That(losses.Where(l => !double.IsNaN(l)).All(double.IsFinite), Is.True);
        Assert.That(double.IsFinite(result.Metrics["final_loss"]), Is.True);
    }

    [Test]
    public void TrainedGreedyPolicyBeatsARandomOne()
    {
        // 250 episodes of the full settings (seed 42, about 2–4 s): far from solved, but the greedy policy
        // already balances several times longer than a random one (≈ 22 steps).
        var settings = new W24Dqn.Settings(250, EvaluationEpisodes: 20, StopWhenSolved: false);
        var result = W24Dqn.Run(new SampleOptions(W24Dqn.Name, Out: _out), new CartPole(), settings);

        Assert.That(result.Metrics["random_average_return"], Is.InRange(15, 30));
        Assert.That(result.Metrics["greedy_average_return"], Is.GreaterThan(3 * result.Metrics["random_average_return"]));
        Assert.That(double.IsFinite(result.Metrics["final_loss"]), Is.True);
    }
}
