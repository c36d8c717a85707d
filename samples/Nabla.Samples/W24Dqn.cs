using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;
using Nabla.Samples.Rl;

namespace Nabla.Samples;

/// <summary>
/// W24 (SEEDS.md §5): a deep Q-network (Mnih et al. 2015, "Human-level control through deep reinforcement
/// learning", Nature 518) on CartPole-v1: an online and a target Sequential Q-network, experience replay,
/// ε-greedy exploration decayed linearly, the Huber loss on the TD error and Adam, trained by a
/// graph-mode custom loop. The task counts as solved (Gym's CartPole criterion) when the return averaged
/// over 100 consecutive episodes reaches 195; training stops there, then the greedy policy is scored on
/// fresh episodes.
/// </summary>
internal static class W24Dqn
{
    public const string Name = "w24-dqn";
    public const string Description = "Deep Q-network on CartPole-v1 (replay, target network, ε-greedy, Huber, Adam) until the 100-episode average return reaches 195";

    /// <summary>The bar: Gym's "solved" threshold for CartPole, averaged over this many episodes.</summary>
    public const double SolvedAverage = 195;
    public const int AverageWindow = 100;

    /// <summary>
    /// Hyperparameters. SEEDS.md only asks that the agent learn the task. Two hidden ReLU layers of 64,
    /// γ = 0.99, one Adam step per environment step once 1,000 transitions are stored, ε linear from 1 to
    /// 0.01 over 10,000 steps, a hard target sync every 1,000 steps, batch 128, learning rate 5e-4.
    /// Batch, learning rate, ε_end and the sync interval were picked from a short sweep: with batch 64,
    /// lr 1e-3, ε_end 0.05 and a sync every 500 steps the greedy policy drifts off the track (x = 2.4) at
    /// ~100 steps and the 100-episode average plateaus at 100–140 (seeds 42 and 1, 600 episodes). With these
    /// settings seed 42 reaches 195 at episode 362, seed 1 at 899, seed 2 not within 1,000 (best 188.7):
    /// vanilla DQN is unstable here, the average rises and falls, and when it crosses 195 depends on the seed.
    /// </summary>
    internal sealed record Settings(
        int MaxEpisodes,
        int Hidden = 64,
        double LearningRate = 5e-4,
        double Gamma = 0.99,
        int BatchSize = 128,
        int BufferCapacity = 50_000,
        int LearningStarts = 1_000,
        int TrainEvery = 1,
        int GradientSteps = 1,
        int TargetSyncSteps = 1_000,
        double EpsilonStart = 1.0,
        double EpsilonEnd = 0.01,
        int EpsilonDecaySteps = 10_000,
        int EvaluationEpisodes = 100,
        bool StopWhenSolved = true,
        int Seed = 42)
    {
        /// <summary>ε at <paramref name="step"/>: linear from start to end over the decay steps, then constant.</summary>
        public double Epsilon(long step) =>
            step >= EpsilonDecaySteps ? EpsilonEnd : EpsilonStart + (EpsilonEnd - EpsilonStart) * step / EpsilonDecaySteps;
    }

    /// <summary>One finished episode.</summary>
    internal readonly record struct Episode(int Number, double Return, double Average, double Epsilon, double MeanLoss, long TotalSteps);

    public static SampleResult Run(SampleOptions options)
    {
        // --quick: a few episodes with exploration decayed early, enough to exercise every part of the loop.
        var settings = options.Quick
            ? new Settings(options.EpochsOr(full: 0, quick: 40), LearningStarts: 256, EpsilonDecaySteps: 1_500, EvaluationEpisodes: 10)
            : new Settings(options.EpochsOr(full: 1_000, quick: 0), BatchSize: options.BatchSizeOr(128));
        return Run(options, new CartPole(), settings);
    }

    internal static SampleResult Run(SampleOptions options, IEnvironment env, Settings settings)
    {
        options.Begin((ulong)settings.Seed);
        Console.WriteLine($"settings: {settings}");
        var clock = Stopwatch.StartNew();
        var agent = new DqnAgent(env.ObservationSize, env.ActionCount, settings);
        agent.Online.Summary();

        var random = new Random(settings.Seed);
        var buffer = new ReplayBuffer(settings.BufferCapacity, env.ObservationSize);
        var batch = new ReplayBuffer.Batch(settings.BatchSize, env.ObservationSize);
        var episodes = new List<Episode>();
        var returns = new List<double>();
        int? solvedAt = null;
        long step = 0;
        for (var e = 1; e <= settings.MaxEpisodes; e++)
        {
            var observation = env.Reset(e == 1 ? settings.Seed : null);
            double episodeReturn = 0, lossSum = 0;
            var lossCount = 0;
            var epsilon = settings.Epsilon(step);
            while (true)
            {
                epsilon = settings.Epsilon(step);
                var action = random.NextDouble() < epsilon ? random.Next(env.ActionCount) : agent.GreedyAction(observation);
                var outcome = env.Step(action);
                // Only a terminal state of the task has value 0; a time-limit cut is bootstrapped like any other state.
                buffer.Add(observation, action, outcome.Reward, outcome.Observation, outcome.Terminated);
                step++;
                if (buffer.Count >= settings.LearningStarts && step % settings.TrainEvery == 0)
                    for (var k = 0; k < settings.GradientSteps; k++)
                    {
                        buffer.Sample(random, batch);
                        lossSum += agent.Train(batch);
                        lossCount++;
                    }
                if (step % settings.TargetSyncSteps == 0) agent.SyncTarget();
                episodeReturn += outcome.Reward;
                observation = outcome.Observation;
                if (outcome.Done) break;
            }
            returns.Add(episodeReturn);
            var average = returns.TakeLast(AverageWindow).Average();
            episodes.Add(new Episode(e, episodeReturn, average, epsilon, lossCount > 0 ? lossSum / lossCount : double.NaN, step));
            if (e % 10 == 0 || e == settings.MaxEpisodes)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"episode {e,4}: return {episodeReturn,5:F0}, average of last {Math.Min(e, AverageWindow),3} {average,6:F1}, ε {epsilon:F3}, loss {episodes[^1].MeanLoss:F4}, steps {step}"));
            if (solvedAt is null && e >= AverageWindow && average >= SolvedAverage)
            {
                solvedAt = e;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"solved at episode {e}: average return {average:F1} over episodes {e - AverageWindow + 1}–{e}"));
                if (settings.StopWhenSolved) break;
            }
        }
        var trainTime = clock.Elapsed;

        var greedy = Evaluate(env, settings.EvaluationEpisodes, settings.Seed + 1_000, agent.GreedyAction);
        var randomPolicy = new Random(settings.Seed + 2);
        var baseline = Evaluate(env, settings.EvaluationEpisodes, settings.Seed + 1_000, _ => randomPolicy.Next(env.ActionCount));
        var elapsed = clock.Elapsed;

        var result = new SampleResult(Name);
        result.Metrics["episodes"] = episodes.Count;
        result.Metrics["steps"] = step;
        result.Metrics["solved_at_episode"] = solvedAt ?? double.NaN;
        result.Metrics["final_average_return"] = episodes[^1].Average;
        result.Metrics["best_average_return"] = episodes.Skip(AverageWindow - 1).Select(ep => ep.Average).DefaultIfEmpty(double.NaN).Max();
        result.Metrics["final_loss"] = episodes.Select(ep => ep.MeanLoss).LastOrDefault(double.IsFinite, double.NaN);
        result.Metrics["greedy_average_return"] = greedy.Average();
        result.Metrics["random_average_return"] = baseline.Average();
        result.Metrics["train_seconds"] = trainTime.TotalSeconds;
        result.Files.Add(SaveCsv(episodes, options.PathFor("episodes.csv")));
        result.Files.Add(ReturnCurve.Save(options.PathFor("returns.png"), returns, episodes.Select(ep => ep.Average).ToList(),
            $"{AverageWindow}-episode average", SolvedAverage, $"W24 DQN on CartPole-v1 (seed {settings.Seed})"));

        var solved = solvedAt is { } at
            ? $"solved at episode {at} (100-episode average ≥ {SolvedAverage})"
            : $"NOT solved in {episodes.Count} episodes (best 100-episode average {result.Metrics["best_average_return"]:F1} < {SolvedAverage})";
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W24 DQN CartPole-v1: {solved}; final 100-episode average {episodes[^1].Average:F1}, {step} steps; greedy policy {greedy.Average():F1} vs random {baseline.Average():F1} over {settings.EvaluationEpisodes} episodes; last loss {result.Metrics["final_loss"]:F4}"),
            episodes.Count, elapsed);
    }

    /// <summary>Returns of <paramref name="count"/> episodes under <paramref name="policy"/>, seeded from <paramref name="seed"/>.</summary>
    internal static double[] Evaluate(IEnvironment env, int count, int seed, Func<float[], int> policy)
    {
        var returns = new double[count];
        for (var i = 0; i < count; i++)
        {
            var observation = env.Reset(i == 0 ? seed : null);
            while (true)
            {
                var result = env.Step(policy(observation));
                returns[i] += result.Reward;
                observation = result.Observation;
                if (result.Done) break;
            }
        }
        return returns;
    }

    private static string SaveCsv(List<Episode> episodes, string path)
    {
        var csv = new StringBuilder("episode,return,average_100,epsilon,mean_loss,total_steps\n");
        foreach (var e in episodes)
            csv.Append(CultureInfo.InvariantCulture, $"{e.Number},{e.Return},{e.Average:R},{e.Epsilon:R},{e.MeanLoss:R},{e.TotalSteps}\n");
        File.WriteAllText(path, csv.ToString());
        return Path.GetFullPath(path);
    }

    /// <summary>
    /// The two Q-networks and the training graph. The loss, in graph mode:
    /// Huber(r + γ·(1 − terminal)·max_a′ Q_target(s′, a′), Q(s, a)), where Q(s, a) is picked from the online
    /// network's outputs with a one-hot mask of the taken actions; Adam minimises it over the online weights only.
    /// </summary>
    private sealed class DqnAgent
    {
        private readonly Session _session;
        private readonly Output _observations, _actions, _rewards, _terminals, _nextObservations, _q, _loss;
        private readonly Operation _train;
        private readonly Tensor[] _single;
        public DqnAgent(int observationSize, int actionCount, Settings s)
        {
            Online = QNetwork(observationSize, actionCount, s.Hidden, "q_network");
            Target = QNetwork(observationSize, actionCount, s.Hidden, "target_q_network");
            var g = Keras.Graph;
            _observations = g.Placeholder(DType.Float32, new Shape(-1, observationSize), "observations");
            _actions = g.Placeholder(DType.Int32, new Shape(-1), "actions");
            _rewards = g.Placeholder(DType.Float32, new Shape(-1), "rewards");
            _terminals = g.Placeholder(DType.Float32, new Shape(-1), "terminals");
            _nextObservations = g.Placeholder(DType.Float32, new Shape(-1, observationSize), "next_observations");

            _q = Online.Apply(_observations, training: true);
            var qTaken = g.ReduceSum(_q * g.OneHot(_actions, actionCount), -1);
            var nextValue = g.ReduceMax(Target.Apply(_nextObservations), [-1]);
            // The target net's weights are not optimised; StopGradient also says so in the graph.
            var tdTarget = g.StopGradient(_rewards + s.Gamma * (1.0 - _terminals) * nextValue);
            _loss = new Huber().Compute(g.ExpandDims(tdTarget, -1), g.ExpandDims(qTaken, -1));
            var optimizer = new Adam(s.LearningRate);
            _train = optimizer.Minimize(_loss, Online.TrainableWeights);
            Keras.InitializeVariables([.. Online.Weights, .. Target.Weights, .. optimizer.Variables]);
            _session = Keras.GetSession();
            _single = new Tensor[1];
            SyncTarget();
        }

        public Sequential Online { get; }

        public Sequential Target { get; }

        /// <summary>argmax_a Q(observation, a), ties to the lowest action.</summary>
        public int GreedyAction(float[] observation)
        {
            _single[0] = Tensor.FromArray(observation, 1, observation.Length);
            var q = _session.Run(_q, new Dictionary<Output, Tensor> { [_observations] = _single[0] }).ToArray<float>();
            var best = 0;
            for (var a = 1; a < q.Length; a++) if (q[a] > q[best]) best = a;
            return best;
        }

        /// <summary>One Adam step on a minibatch; returns the loss before the step.</summary>
        public double Train(ReplayBuffer.Batch b)
        {
            var n = b.Size;
            var feeds = new Dictionary<Output, Tensor>
            {
                [_observations] = Tensor.FromArray(b.Observations, n, b.Observations.Length / n),
                [_actions] = Tensor.FromArray(b.Actions, n),
                [_rewards] = Tensor.FromArray(b.Rewards, n),
                [_terminals] = Tensor.FromArray(b.Terminals, n),
                [_nextObservations] = Tensor.FromArray(b.NextObservations, n, b.NextObservations.Length / n),
            };
            return _session.Run([_loss], feeds, _train)[0].ToDoubleArray()[0];
        }

        /// <summary>Copies the online weights into the target network.</summary>
        public void SyncTarget() => Target.SetWeights(Online.GetWeights());

        private static Sequential QNetwork(int inputs, int actions, int hidden, string name) =>
            new([new Dense(hidden, "relu", inputShape: [inputs]), new Dense(hidden, "relu"), new Dense(actions)], name);
    }
}
