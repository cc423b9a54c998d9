"""API words for ontology terms: purposes, legal bases and data categories.

Requests use short snake_case words; the rules speak in ``hs:`` terms. One table per concept
keeps the two in step (the ontology test checks every term exists).
"""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    treatment = "treatment"
    research = "research"
    public_health = "public_health"
    payment = "payment"
    management = "management"
    model_training = "model_training"
    commercialisation = "commercialisation"


class LegalBasis(StrEnum):
    consent = "consent"
    contract = "contract"
    statutory_duty = "statutory_duty"
    emergency = "emergency"
    public_interest = "public_interest"
    published = "published"
    other_law = "other_law"


class Category(StrEnum):
    personal_attributes = "personal_attributes"
    health_status = "health_status"
    medical_application = "medical_application"
    medical_payment = "medical_payment"
    health_resources = "health_resources"
    public_health = "public_health"


PURPOSE_TERMS = {
    Purpose.treatment: "Treatment",
    Purpose.research: "Research",
    Purpose.public_health: "PublicHealthPurpose",
    Purpose.payment: "Payment",
    Purpose.management: "Management",
    Purpose.model_training: "ModelTraining",
    Purpose.commercialisation: "Commercialisation",
}
BASIS_TERMS = {
    LegalBasis.consent: "ConsentBasis",
    LegalBasis.contract: "ContractBasis",
    LegalBasis.statutory_duty: "StatutoryDutyBasis",
    LegalBasis.emergency: "EmergencyBasis",
    LegalBasis.public_interest: "PublicInterestBasis",
    LegalBasis.published: "PublishedBasis",
    LegalBasis.other_law: "OtherLawBasis",
}
CATEGORY_TERMS = {
    Category.personal_attributes: "PersonalAttributes",
    Category.health_status: "HealthStatus",
    Category.medical_application: "MedicalApplication",
    Category.medical_payment: "MedicalPayment",
    Category.health_resources: "HealthResources",
    Category.public_health: "PublicHealth",
}
