package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.SamplerType;
import org.junit.jupiter.api.Test;

/** The budget planner's predicted fraction is what the run executes, within 2% below the budget. */
class BudgetPlannerTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    @Test
    void generationsSpendThePlannedFractionWithinTheBudget() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            for (double budget : new double[] {0.35, 0.5, 0.75, 1.0}) {
                for (double cfg : new double[] {1.0, 3.0}) {
                    GenerationRequest r = GenerationRequest.builder().labels(1, 2).steps(12).cfgScale(cfg)
                            .sampler(SamplerType.DPMPP_2M).seed(seed).build();
                    BudgetPlanner.Plan plan = BudgetPlanner.plan(CFG, 12, budget);
                    GenerationResult g = m.generate(r, budget);
                    double spent = g.executedMacs() / g.staticMacs();
                    assertEquals(plan.fraction(), spent, 1e-9, "budget " + budget + ", cfg " + cfg + ": " + plan);
                    assertTrue(spent <= budget + 1e-9 && spent >= budget - BudgetPlanner.TOLERANCE, plan.toString());
                    assertEquals(12, plan.steps().size());
                }
            }
        }
    }

    @Test
    void aBudgetBelowTheLeversIsRefusedNamingTheMinimum() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> BudgetPlanner.plan(CFG, 12, 0.05));
        assertTrue(e.getMessage().contains("reach down to"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> BudgetPlanner.plan(CFG, 12, 0));
        assertEquals(1.0, BudgetPlanner.plan(CFG, 12, 1.0).fraction(), 1e-12, "the full budget runs everything");
    }
}
